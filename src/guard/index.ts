/**
 * `keywarden/guard`: who is calling, and may they touch this row?
 *
 * - identity: {@link runAs}, {@link currentIdentity}, {@link createSessionVerifier}, {@link hostIdentity}
 * - ownership: {@link owned} (function wrapper and `@owned` decorator), {@link publicHandler}
 * - by construction: {@link createMemoryTable} (`forUser` scoped stores), {@link rlsSetupSql} and
 *   {@link withUserTransaction} (PostgreSQL row-level security)
 * - registry: {@link listHandlers}, {@link handlerEntryOf}
 *
 * The isolation test kit is at `keywarden/guard/testing`.
 *
 * @packageDocumentation
 */
export { currentIdentity, requireIdentity, runAs, runAsNobody } from "./context.js";
export type { DualMethodDecorator } from "./decorate.js";
export {
  assertIdentity,
  assertUserId,
  hostIdentity,
  type Identity,
  type IdentityKind,
  isIdentity,
  isIdentityLive,
  operatorIdentity,
} from "./identity.js";
export {
  type Loaded,
  type LoadedBatch,
  loadedRow,
  loadedRows,
  type OwnedMany,
  type OwnedOne,
  type OwnedPolicy,
  owned,
} from "./owned.js";
export {
  createMemoryTable,
  type MemoryTableOptions,
  type OperatorTableView,
  type OwnedTable,
  type UserScopedTable,
} from "./owned-table.js";
export type { PgClientLike, PgPoolLike, PgQueryResultLike } from "./pg-like.js";
export { type PublicHandlerOptions, publicHandler } from "./public-handler.js";
export { type HandlerEntry, type HandlerKind, handlerEntryOf, listHandlers } from "./registry.js";
export {
  RLS_USER_SETTING,
  type RlsSetupOptions,
  type RlsTable,
  rlsSetupSql,
  withUserTransaction,
} from "./rls.js";
export {
  createSessionVerifier,
  SESSION_ALGORITHMS,
  type SessionAlgorithm,
  type SessionKey,
  type SessionVerifier,
  type SessionVerifierOptions,
} from "./session.js";
