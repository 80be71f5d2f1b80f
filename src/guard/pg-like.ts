/**
 * The small structural subset of node-postgres (`pg`) that keywarden uses. Typed locally so that
 * `keywarden/guard` never imports `pg` (an optional peer): a `pg.Pool` satisfies it as is.
 */
export interface PgQueryResultLike<Row = Record<string, unknown>> {
  rows: Row[];
  rowCount: number | null;
}

/** A checked-out connection (`pg.PoolClient`). */
export interface PgClientLike {
  /** Runs one statement with positional parameters (`$1`, `$2`, ...). */
  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<PgQueryResultLike<Row>>;
  /** Returns the connection to the pool; passing an error (or `true`) destroys it instead. */
  release(destroy?: Error | boolean): void;
}

/**
 * A connection pool (`pg.Pool`): the one structural pool type of every PostgreSQL binding in
 * keywarden (the guard's RLS helpers, the audit store, the credential store).
 */
export interface PgPoolLike {
  /** Checks out a connection. */
  connect(): Promise<PgClientLike>;
  /**
   * Runs one statement on any idle connection (`pg.Pool#query`). Optional in the type so that a
   * connect-only pool serves the guard and the audit store; the credential store requires it.
   */
  query?<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<PgQueryResultLike<Row>>;
}
