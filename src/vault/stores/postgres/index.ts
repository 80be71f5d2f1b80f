/**
 * The PostgreSQL credential store (`keywarden/vault/postgres`) and its row-level-security mode
 * (transaction-local `app.user_id`, the RLS setup SQL and its verification). Bound to `pg` through
 * the guard's structural `PgPoolLike`. May import the stores contract and row codec, the guard and
 * the foundation.
 *
 * @packageDocumentation
 */
export * from "./rls.js";
export * from "./store.js";
