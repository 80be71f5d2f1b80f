import { quoteIdentifier } from "../rls.js";

/** Anything with a `query` method returning rows, such as a `pg.Pool` or a `pg.Client`. */
export interface PgQueryable {
  query(text: string): Promise<{ rows: unknown[] }>;
}

/**
 * Every row of each table as JSON, in a stable order: a storage snapshot for an
 * {@link IsolationSurface} backed by PostgreSQL. Use a connection that sees all rows (the migration
 * superuser), never the application role, or RLS would hide the very changes the kit looks for.
 *
 * @example
 * ```ts
 * snapshot: () => snapshotPgTables(admin, ["credentials", "audit_entries"]),
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a table name that is not a plain lower-case
 * identifier; otherwise what the database throws.
 */
export async function snapshotPgTables(
  db: PgQueryable,
  tables: readonly string[],
): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    const q = quoteIdentifier(table, "table");
    const { rows } = await db.query(
      `select to_jsonb(t) as row from ${q} t order by to_jsonb(t)::text`,
    );
    out[table] = rows.map((r) => (r as { row: unknown }).row);
  }
  return out;
}
