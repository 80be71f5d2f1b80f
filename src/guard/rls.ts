import { KeywardenError } from "../errors.js";
import { assertIdentity, type Identity } from "./identity.js";
import type { PgClientLike, PgPoolLike } from "./pg-like.js";

/** The transaction-local setting the RLS policies read the caller's user id from. */
export const RLS_USER_SETTING = "app.user_id";

/** A table to protect: its name and the column holding the owning user id. */
export interface RlsTable {
  /** Table name, optionally schema-qualified (`"keywarden.credentials"`). */
  table: string;
  /** Owner column (text). Default `"user_id"`. */
  ownerColumn?: string;
}

/** Options of {@link rlsSetupSql}. */
export interface RlsSetupOptions {
  tables: readonly RlsTable[];
  /** NOLOGIN role that owns the tables and runs migrations. Default `"keywarden_owner"`. */
  ownerRole?: string;
  /**
   * Role the application connects as: not the owner, no BYPASSRLS, no superuser. Created NOLOGIN;
   * grant it LOGIN and a password out of band (never in a migration). Default `"keywarden_app"`.
   */
  appRole?: string;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Quotes a validated lower-case identifier, or `schema.name`.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for anything else.
 * @internal
 */
export function quoteIdentifier(name: string, what: string): string {
  const parts = typeof name === "string" ? name.split(".") : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `${what} must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, optionally schema.name)`,
    );
  }
  return parts.map((p) => `"${p}"`).join(".");
}

/**
 * SQL statements (run them in order, as a superuser or the owner role, in a migration) that put
 * `tables` under row-level security: ENABLE + FORCE RLS (so even the table owner is filtered), one
 * policy whose USING and WITH CHECK compare the owner column with the transaction-local
 * `app.user_id` (an unset or empty setting matches no row), a NOLOGIN owner role, and a separate
 * application role with only DML grants, NOBYPASSRLS and NOSUPERUSER.
 *
 * Not covered by RLS, by PostgreSQL's design: superusers and BYPASSRLS roles, TRUNCATE, and views
 * or SECURITY DEFINER functions owned by a bypassing role (create views `WITH (security_invoker)`).
 *
 * @example
 * ```ts
 * for (const sql of rlsSetupSql({ tables: [{ table: "orders" }] })) await admin.query(sql);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a name that is not a plain lower-case identifier.
 */
export function rlsSetupSql(options: RlsSetupOptions): string[] {
  if (!options || !Array.isArray(options.tables) || options.tables.length === 0) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "rlsSetupSql() needs at least one table");
  }
  const owner = quoteIdentifier(options.ownerRole ?? "keywarden_owner", "ownerRole");
  const app = quoteIdentifier(options.appRole ?? "keywarden_app", "appRole");
  if (owner === app) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "ownerRole and appRole must differ");
  }
  const role = (r: string) =>
    `do $$ begin if not exists (select 1 from pg_roles where rolname = '${r.slice(1, -1)}') ` +
    `then create role ${r} nologin nosuperuser nobypassrls; end if; end $$`;
  const sql = [
    role(owner),
    role(app),
    `alter role ${owner} nologin nosuperuser nobypassrls`,
    `alter role ${app} nosuperuser nobypassrls`,
  ];
  const me = `nullif(current_setting('${RLS_USER_SETTING}', true), '')`;
  for (const t of options.tables) {
    const table = quoteIdentifier(t.table, "table");
    const column = quoteIdentifier(t.ownerColumn ?? "user_id", "ownerColumn");
    const schema = table.includes(".") ? table.split(".")[0] : undefined;
    if (schema) sql.push(`grant usage on schema ${schema} to ${owner}, ${app}`);
    sql.push(
      `alter table ${table} owner to ${owner}`,
      `alter table ${table} enable row level security`,
      `alter table ${table} force row level security`,
      `drop policy if exists keywarden_owner_only on ${table}`,
      // (select ...) is evaluated once per statement, not once per row.
      `create policy keywarden_owner_only on ${table} as permissive for all to public ` +
        `using (${column} = (select ${me})) with check (${column} = (select ${me}))`,
      `revoke all on ${table} from ${app}`,
      `grant select, insert, update, delete on ${table} to ${app}`,
    );
  }
  return sql;
}

/**
 * Runs `fn` in one transaction on one pooled connection with `app.user_id` set to the caller's
 * user id by `select set_config('app.user_id', $1, true)` — transaction-local, so it ends with the
 * transaction and never leaks to the next user of the connection (no session-level SET). Commits
 * when `fn` resolves, rolls back when it throws; a connection whose rollback fails is destroyed.
 *
 * @example
 * ```ts
 * const rows = await withUserTransaction(pool, who, (db) =>
 *   db.query("select * from orders where id = $1", [orderId]));
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED` unless `identity` is a live keywarden
 * identity; otherwise what the database or `fn` throws.
 */
export async function withUserTransaction<T>(
  pool: PgPoolLike,
  identity: Identity,
  fn: (client: PgClientLike) => Promise<T>,
): Promise<T> {
  /* Precondition: a user transaction is only opened for a live, keywarden-minted identity. */
  assertIdentity(identity);
  const client = await pool.connect();
  let destroy: Error | undefined;
  try {
    try {
      await client.query("begin");
    } catch (err) {
      destroy = err instanceof Error ? err : new Error("begin failed");
      throw err;
    }
    try {
      /* Precondition: the user id is set inside the transaction, never at session level. */
      await client.query("select set_config($1, $2, true)", [RLS_USER_SETTING, identity.userId]);
      const result = await fn(client);
      await client.query("commit");
      return result;
    } catch (err) {
      try {
        await client.query("rollback");
      } catch (rollbackError) {
        destroy = rollbackError instanceof Error ? rollbackError : new Error("rollback failed");
      }
      throw err;
    }
  } finally {
    client.release(destroy);
  }
}
