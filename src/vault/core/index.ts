/**
 * The vault's own logic: `Vault` (store, open, rotate, erase), sessions and authorization, trading
 * grants, the keyring that unwraps data keys, key locks and the key-free emergency lock, credential
 * fields, and the guarded handler set. May import format, kms, stores, the guard and the foundation.
 *
 * @packageDocumentation
 */
export * from "./authorization.js";
export * from "./credential-fields.js";
export * from "./emergency.js";
export * from "./grants.js";
export * from "./handlers.js";
export * from "./keyring.js";
export * from "./locks.js";
export * from "./support.js";
export * from "./vault.js";
