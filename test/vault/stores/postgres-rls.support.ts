import { randomBytes } from "node:crypto";
import type pg from "pg";
import { vaultRlsSetupSql } from "../../../src/vault/stores/postgres/rls.js";
import type { PgClientLike, PgPoolLike } from "../../../src/vault/stores/postgres/store.js";

/** Login URLs of the roles {@link rlsRoles} created. */
export interface RlsRoleUrls {
  /** The non-owner application role (NOBYPASSRLS): the store's pool. */
  appUrl: string;
  /** The BYPASSRLS operator role with a `user_id`-only column grant: the store's operatorPool. */
  operatorUrl: string;
}

/**
 * Runs the vault's RLS migration on the database behind `admin` (a superuser pool) — twice, since
 * it must be idempotent — with fresh role names, and gives the application and operator roles a
 * login password, as an administrator would out of band.
 */
export async function rlsRoles(admin: pg.Pool, dbUrl: string): Promise<RlsRoleUrls> {
  const suffix = randomBytes(4).toString("hex");
  const appRole = `kw_vapp_${suffix}`;
  const operatorRole = `kw_vop_${suffix}`;
  const sql = vaultRlsSetupSql({ ownerRole: `kw_vown_${suffix}`, appRole, operatorRole });
  for (const s of [...sql, ...sql]) await admin.query(s);
  const url = async (role: string) => {
    const password = randomBytes(12).toString("hex");
    await admin.query(`alter role ${role} login password '${password}'`);
    const u = new URL(dbUrl);
    u.username = role;
    u.password = password;
    return u.toString();
  };
  return { appUrl: await url(appRole), operatorUrl: await url(operatorRole) };
}

/**
 * A deliberately broken query path: every SELECT and every grant UPDATE/lock DELETE loses its
 * owner predicate (`user_id = $n AND` becomes `$n::text IS NOT NULL AND`), as if a query had been
 * written with the wrong WHERE clause. Only row-level security can then keep owners apart.
 */
export function forgetOwnerPredicates(pool: PgPoolLike): PgPoolLike {
  const rewrite = (text: string) =>
    /^\s*(SELECT \*|UPDATE keywarden_vault_grants|DELETE FROM keywarden_vault_locks)/.test(text)
      ? text.replace(/\buser_id = (\$\d+) AND\b/g, "$1::text IS NOT NULL AND")
      : text;
  return {
    query: (text, values) => {
      if (!pool.query) throw new Error("the wrapped pool has no query()");
      return pool.query(rewrite(text), values);
    },
    connect: async () => {
      const c = await pool.connect();
      const wrapped: PgClientLike = {
        query: (text, values) => c.query(rewrite(text), values),
        release: (destroy) => c.release(destroy),
      };
      return wrapped;
    },
  };
}
