/**
 * The small structural subset of better-sqlite3 that the SQLite audit store uses, typed locally so
 * that nothing in keywarden imports `better-sqlite3` (an optional peer) for its types. A
 * `better-sqlite3` `Database` satisfies it as is.
 *
 * @packageDocumentation
 */

/** A prepared statement (`better-sqlite3` `Statement`). */
export interface SqliteStatementLike {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** A transaction function as returned by `db.transaction(fn)`. */
export type SqliteTransactionLike<A extends unknown[], R> = ((...args: A) => R) & {
  /** Runs the transaction with `BEGIN IMMEDIATE` (takes the write lock up front). */
  immediate(...args: A): R;
};

/** A database connection (`better-sqlite3` `Database`). */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransactionLike<A, R>;
  close(): unknown;
  readonly open: boolean;
}
