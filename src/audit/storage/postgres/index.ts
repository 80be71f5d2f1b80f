/**
 * The PostgreSQL adapter (`keywarden/audit/postgres`): schema migrations, group-committed appends
 * under a per-chain advisory lock, row-level-security mode, error mapping. Bound to `pg` through the
 * guard's structural `PgPoolLike`. May import the storage contract, the guard's RLS helpers and the
 * foundation.
 *
 * @packageDocumentation
 */
export * from "./append.js";
export * from "./errors.js";
export * from "./migrations.js";
export * from "./store.js";
