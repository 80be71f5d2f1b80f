/**
 * Credential stores: the `CredentialStore` contract (store.ts), memory and file stores, the shared
 * SQL row codec, SQLite (`keywarden/vault/sqlite`) and PostgreSQL (`keywarden/vault/postgres`, a
 * sub-room with its row-level-security mode). Stores hold only sealed envelopes and never decrypt.
 * May import the guard's RLS helpers and the foundation; never kms or the vault's core.
 *
 * The SQLite and PostgreSQL stores are doors of their own (`keywarden/vault/sqlite`,
 * `keywarden/vault/postgres`) and are not re-exported here.
 *
 * @packageDocumentation
 */
export * from "./file.js";
export * from "./memory.js";
export * from "./sql-rows.js";
export * from "./store.js";
