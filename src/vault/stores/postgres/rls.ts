/**
 * PostgreSQL row-level security for the vault tables: the migration SQL, built on the guard's
 * {@link rlsSetupSql}. Used with `new PostgresCredentialStore(appPool, { rls: true })`.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { quoteIdentifier, rlsSetupSql } from "../../../guard/rls.js";
import { schemaSql, TABLES } from "../index.js";

/** Options of {@link vaultRlsSetupSql}. */
export interface VaultRlsSetupOptions {
  /** NOLOGIN role that owns the vault tables. Default `"keywarden_owner"`. */
  ownerRole?: string;
  /**
   * Role the application connects as (the store's `pool`): not the owner, NOBYPASSRLS,
   * NOSUPERUSER, DML grants only. Default `"keywarden_app"`. Grant it LOGIN out of band.
   */
  appRole?: string;
  /**
   * Optional role for the store's `operatorPool` (emergency revocation's `listUserIds`): created
   * NOLOGIN with BYPASSRLS and a column grant on `user_id` only — it can list owners but cannot read
   * a wrapped key, a sealed blob or a label, and cannot write. Creating a BYPASSRLS role needs a
   * superuser. Omit it to use your own BYPASSRLS role or superuser.
   */
  operatorRole?: string;
}

/**
 * SQL statements (run them in order, as a superuser, in a migration) that create the vault tables
 * if missing and put all four of them (user keys, credentials, grants, locks) under FORCE row-level
 * security: policy `user_id = current_setting('app.user_id', true)` for USING and WITH CHECK, a
 * NOLOGIN owner role and a non-owner application role without BYPASSRLS (see the guard's
 * {@link rlsSetupSql}), plus, when asked, a least-privileged operator role. Idempotent.
 *
 * @example
 * ```ts
 * for (const sql of vaultRlsSetupSql({ appRole: "kw_app", operatorRole: "kw_operator" }))
 *   await adminPool.query(sql);
 * // then, out of band: ALTER ROLE kw_app LOGIN PASSWORD '...'; ALTER ROLE kw_operator LOGIN ...
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a role name that is not a plain lower-case
 * identifier, or roles that are not all distinct.
 */
export function vaultRlsSetupSql(options: VaultRlsSetupOptions = {}): string[] {
  const tables = Object.values(TABLES);
  const sql = [
    ...schemaSql("BYTEA", "BIGINT", ""),
    ...rlsSetupSql({
      tables: tables.map((table) => ({ table })),
      ...(options.ownerRole === undefined ? {} : { ownerRole: options.ownerRole }),
      ...(options.appRole === undefined ? {} : { appRole: options.appRole }),
    }),
  ];
  if (options.operatorRole === undefined) return sql;
  const op = quoteIdentifier(options.operatorRole, "operatorRole");
  const others = [options.ownerRole ?? "keywarden_owner", options.appRole ?? "keywarden_app"];
  if (others.includes(options.operatorRole)) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "operatorRole must differ from ownerRole and appRole",
    );
  }
  sql.push(
    `do $$ begin if not exists (select 1 from pg_roles where rolname = '${op.slice(1, -1)}') ` +
      `then create role ${op} nologin nosuperuser bypassrls; end if; end $$`,
    `alter role ${op} nosuperuser bypassrls`,
  );
  for (const table of tables) {
    const t = quoteIdentifier(table, "table");
    sql.push(`revoke all on ${t} from ${op}`, `grant select (user_id) on ${t} to ${op}`);
  }
  return sql;
}

/**
 * The check behind `PostgresCredentialStore.verifyRowLevelSecurity()`, run through `pool`.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when RLS would not apply to `pool`'s role.
 * @internal
 */
export async function verifyVaultRowLevelSecurity(pool: {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}): Promise<void> {
  const tables = Object.values(TABLES);
  const r = await pool.query(
    `SELECT r.rolsuper AS superuser, r.rolbypassrls AS bypass,
         (SELECT count(*) FROM pg_class c WHERE c.oid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t)
            AND c.relrowsecurity AND c.relforcerowsecurity
            AND NOT pg_has_role(current_user, c.relowner, 'MEMBER')
            AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))::int AS protected
       FROM pg_roles r WHERE r.rolname = current_user`,
    [tables],
  );
  const row = r.rows[0] as
    | { superuser?: unknown; bypass?: unknown; protected?: unknown }
    | undefined;
  /* Precondition: an RLS-mode pool is verified to be neither bypassing nor owning the tables. */
  if (row?.superuser !== false || row.bypass !== false || row.protected !== tables.length) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "the store's pool does not run under row-level security on every vault table",
      {
        details: {
          superuser: row?.superuser === true,
          bypassRls: row?.bypass === true,
          protectedTables: Number(row?.protected ?? 0),
          vaultTables: tables.length,
        },
      },
    );
  }
}
