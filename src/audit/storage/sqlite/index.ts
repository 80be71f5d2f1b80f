/**
 * The SQLite adapter (`keywarden/audit/sqlite`), bound to better-sqlite3 through a structural
 * `SqliteDatabaseLike` so the package is an optional peer. May import the storage contract and the
 * foundation.
 *
 * @packageDocumentation
 */
export * from "./like.js";
export * from "./schema.js";
export * from "./store.js";
