/**
 * `keywarden/vault/postgres`: a {@link CredentialStore} on PostgreSQL through an injected pool
 * (typed structurally; `pg.Pool` fits). Deleting rows leaves dead tuples until VACUUM, and old
 * row versions stay in WAL archives and base backups: see {@link PostgresCredentialStore.vacuum}
 * and docs/kms-setup.md §Deletion.
 *
 * @packageDocumentation
 */

import { KeywardenError } from "../../../errors.js";
import type { PgClientLike, PgPoolLike, PgQueryResultLike } from "../../../guard/index.js";
import { RLS_USER_SETTING } from "../../../guard/rls.js";
import type { CredentialStore, OwnerScopedStore, StoreCommit } from "../index.js";
import {
  CREDENTIAL_UPSERT,
  credentialParams,
  GRANT_UPSERT,
  grantParams,
  LIST_USER_IDS_SQL,
  lockParams,
  schemaSql,
  TABLES,
  toCredential,
  toGrant,
  toLock,
  toUserKey,
  userParams,
} from "../index.js";
import { verifyVaultRowLevelSecurity } from "./rls.js";

export type { PgClientLike, PgPoolLike } from "../../../guard/index.js";
export { type VaultRlsSetupOptions, vaultRlsSetupSql } from "./rls.js";

/** Result of a query (the guard's {@link PgQueryResultLike}; rows are validated by the mappers). */
// biome-ignore lint/suspicious/noExplicitAny: rows are validated by the mappers
export type PgResultLike = PgQueryResultLike<any>;

const U = TABLES.users;
const C = TABLES.credentials;
const G = TABLES.grants;
const L = TABLES.locks;
/** Options of {@link PostgresCredentialStore}. */
export interface PostgresStoreOptions {
  /**
   * Row-level-security mode: every owner-scoped operation, reads included, runs in its own
   * transaction that first does `select set_config('app.user_id', $1, true)` (transaction-local),
   * so the policies of {@link vaultRlsSetupSql} confine each statement to that owner's rows. Connect
   * `pool` as the non-owner application role. Default false.
   */
  rls?: boolean;
  /**
   * RLS mode only: a pool connected as a role that bypasses RLS (the `operatorRole` of
   * {@link vaultRlsSetupSql}, another BYPASSRLS role, or a superuser), used only by
   * {@link PostgresCredentialStore.listUserIds}. The table owner does not qualify: FORCE RLS
   * filters it too.
   */
  operatorPool?: PgPoolLike;
}

/** Thrown inside a transaction to roll it back and report a refused compare-and-swap. */
const CAS_REFUSED = Symbol("cas-refused");
/** A pool with `query` (the credential store's one requirement beyond the guard's pool type). */
type QueryablePool = PgPoolLike & Required<Pick<PgPoolLike, "query">>;

const isPool = (p: unknown): p is QueryablePool =>
  typeof p === "object" &&
  p !== null &&
  typeof (p as PgPoolLike).query === "function" &&
  typeof (p as PgPoolLike).connect === "function";

const ph = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(", ");

/**
 * PostgreSQL credential store.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { PostgresCredentialStore } from "keywarden/vault/postgres";
 * const store = new PostgresCredentialStore(new pg.Pool({ connectionString }));
 * await store.migrate();
 *
 * // Under row-level security (tables set up once with vaultRlsSetupSql() by an administrator):
 * const rlsStore = new PostgresCredentialStore(new pg.Pool({ connectionString: appRoleUrl }), {
 *   rls: true,
 *   operatorPool: new pg.Pool({ connectionString: operatorRoleUrl }),
 * });
 * ```
 */
export class PostgresCredentialStore implements CredentialStore {
  readonly #pool: QueryablePool;
  readonly #rls: boolean;
  readonly #operatorPool: QueryablePool | undefined;

  /**
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a pool without `query`/`connect`, an
   * `operatorPool` without `rls: true`, or an `operatorPool` that is the application pool.
   */
  constructor(pool: PgPoolLike, options: PostgresStoreOptions = {}) {
    const { rls = false, operatorPool } = options ?? {};
    if (!isPool(pool) || typeof rls !== "boolean") {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "PostgresCredentialStore needs a pg pool");
    }
    if (operatorPool !== undefined && (!rls || !isPool(operatorPool) || operatorPool === pool)) {
      throw new KeywardenError(
        "ERR_INVALID_ARGUMENT",
        "operatorPool is a separate pool, used only with rls: true",
      );
    }
    this.#pool = pool;
    this.#rls = rls;
    this.#operatorPool = operatorPool;
  }

  /**
   * Creates the tables if they do not exist.
   *
   * @throws {KeywardenError} `ERR_NOT_SUPPORTED` in RLS mode: the application role must not own
   * or create tables; run {@link vaultRlsSetupSql} as an administrator instead.
   */
  async migrate(): Promise<void> {
    if (this.#rls) {
      throw new KeywardenError(
        "ERR_NOT_SUPPORTED",
        "in RLS mode the application role cannot migrate: run vaultRlsSetupSql() as an administrator",
      );
    }
    for (const sql of schemaSql("BYTEA", "BIGINT", "")) await this.#pool.query(sql);
  }

  /**
   * Checks, as the store's pool, that row-level security really applies to it: the role is neither
   * superuser nor BYPASSRLS nor a member of a vault table's owner, and every vault table has RLS
   * enabled and forced with at least one policy. Call it once at startup in RLS mode: a pool that
   * connects as the wrong role would otherwise work silently without the database's protection.
   *
   * @example
   * ```ts
   * const store = new PostgresCredentialStore(appPool, { rls: true, operatorPool });
   * await store.verifyRowLevelSecurity();
   * ```
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the pool's role would bypass or escape RLS,
   * or a vault table is missing or unprotected (`details` says which check failed).
   */
  async verifyRowLevelSecurity(): Promise<void> {
    await verifyVaultRowLevelSecurity(this.#pool);
  }

  /**
   * Rewrites the vault tables so that dead tuples of deleted (shredded) rows are removed from the
   * table files: `VACUUM FULL` (takes an exclusive lock). WAL archives and backups are unaffected.
   */
  async vacuum(): Promise<void> {
    if (this.#rls) {
      throw new KeywardenError(
        "ERR_NOT_SUPPORTED",
        "in RLS mode run VACUUM (FULL) on the vault tables as their owner or a superuser",
      );
    }
    await this.#pool.query(`VACUUM (FULL) ${U}, ${C}, ${G}, ${L}`);
  }

  /**
   * One transaction on one connection; in RLS mode `app.user_id` is set first, transaction-local.
   * A connection whose ROLLBACK fails is destroyed, not returned to the pool.
   */
  async #tx<T>(
    pool: PgPoolLike,
    setting: readonly [string, string] | null,
    fn: (c: PgClientLike) => Promise<T>,
  ): Promise<T> {
    const c = await pool.connect();
    let destroy: Error | undefined;
    try {
      await c.query("BEGIN");
      /* Precondition: in RLS mode the owner id is set inside each transaction, never at session level. */
      if (setting) await c.query("SELECT set_config($1, $2, true)", [...setting]);
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch((e: unknown) => {
        destroy = e instanceof Error ? e : new Error("rollback failed");
      });
      throw err;
    } finally {
      c.release(destroy);
    }
  }

  #scoped<T>(userId: string, fn: (c: PgClientLike) => Promise<T>): Promise<T> {
    return this.#tx(this.#pool, this.#rls ? [RLS_USER_SETTING, userId] : null, fn);
  }

  /**
   * {@inheritDoc CredentialStore.listUserIds}
   *
   * In RLS mode it reads through `operatorPool` with `row_security` off, so a role that RLS would
   * filter (such as the table owner under FORCE) gets an error instead of a silently short list.
   *
   * @throws {KeywardenError} `ERR_NOT_SUPPORTED` in RLS mode without an `operatorPool`.
   */
  async listUserIds(): Promise<string[]> {
    let rows: { user_id: unknown }[];
    if (!this.#rls) rows = (await this.#pool.query<{ user_id: unknown }>(LIST_USER_IDS_SQL)).rows;
    else {
      /* Precondition: in RLS mode the operator's user listing needs a separate operatorPool. */
      if (!this.#operatorPool) {
        throw new KeywardenError(
          "ERR_NOT_SUPPORTED",
          "listUserIds() in RLS mode needs an operatorPool that bypasses row-level security",
        );
      }
      rows = await this.#tx(this.#operatorPool, ["row_security", "off"], async (c) => {
        return (await c.query<{ user_id: unknown }>(LIST_USER_IDS_SQL)).rows;
      });
    }
    return rows.map((row) => String(row.user_id)).sort();
  }

  /** {@inheritDoc CredentialStore.forUser} */
  forUser(userId: string): OwnerScopedStore {
    const q = (text: string, values: unknown[]) =>
      this.#rls
        ? this.#scoped(userId, (c) => c.query(text, values))
        : this.#pool.query(text, values);
    return {
      userId,
      getUserKey: async () => {
        const r = await q(`SELECT * FROM ${U} WHERE user_id = $1`, [userId]);
        return r.rows[0] ? toUserKey(r.rows[0]) : undefined;
      },
      getCredential: async (id) => {
        const r = await q(`SELECT * FROM ${C} WHERE user_id = $1 AND credential_id = $2`, [
          userId,
          id,
        ]);
        return r.rows[0] ? toCredential(r.rows[0]) : undefined;
      },
      listCredentials: async () =>
        (
          await q(`SELECT * FROM ${C} WHERE user_id = $1 ORDER BY credential_id`, [userId])
        ).rows.map(toCredential),
      getGrant: async (id) => {
        const r = await q(`SELECT * FROM ${G} WHERE user_id = $1 AND grant_id = $2`, [userId, id]);
        return r.rows[0] ? toGrant(r.rows[0]) : undefined;
      },
      listGrants: async () =>
        (await q(`SELECT * FROM ${G} WHERE user_id = $1 ORDER BY grant_id`, [userId])).rows.map(
          toGrant,
        ),
      commit: (change: StoreCommit) =>
        this.#scoped(userId, async (c) => {
          if (change.userKey.userId !== userId) return false;
          const p = userParams(change.userKey);
          const r =
            change.expectedSeq === null
              ? await c.query(
                  `INSERT INTO ${U} VALUES (${ph(8)}) ON CONFLICT (user_id) DO NOTHING`,
                  p,
                )
              : await c.query(
                  `UPDATE ${U} SET kms = $2, key_id = $3, wrapped_data_key = $4, manifest = $5, seq = $6,
                   created_at = $7, updated_at = $8 WHERE user_id = $1 AND seq = $9`,
                  [...p, change.expectedSeq],
                );
          if (r.rowCount !== 1) throw CAS_REFUSED; // rolls back, reported as false below
          for (const cr of change.credentials ?? []) {
            if (cr.userId === userId) {
              await c.query(
                `INSERT INTO ${C} VALUES (${ph(9)}) ${CREDENTIAL_UPSERT}`,
                credentialParams(cr),
              );
            }
          }
          for (const g of change.grants ?? []) {
            if (g.userId === userId)
              await c.query(`INSERT INTO ${G} VALUES (${ph(9)}) ${GRANT_UPSERT}`, grantParams(g));
          }
          return true;
        }).catch((err: unknown) => {
          if (err === CAS_REFUSED) return false;
          throw err;
        }),
      revokeGrant: async (grantId, revokedAt) =>
        (
          await q(
            `UPDATE ${G} SET revoked_at = COALESCE(revoked_at, $1), wrapped_data_key = NULL
             WHERE user_id = $2 AND grant_id = $3`,
            [revokedAt, userId, grantId],
          )
        ).rowCount === 1,
      getLock: async () => {
        const r = await q(`SELECT * FROM ${L} WHERE user_id = $1`, [userId]);
        return r.rows[0] ? toLock(r.rows[0]) : undefined;
      },
      lock: async (lock) =>
        (
          await q(
            `INSERT INTO ${L} VALUES (${ph(5)}) ON CONFLICT (user_id) DO NOTHING`,
            lockParams({ ...lock, userId }),
          )
        ).rowCount === 1,
      clearLock: async (lockId) =>
        (await q(`DELETE FROM ${L} WHERE user_id = $1 AND lock_id = $2`, [userId, lockId]))
          .rowCount === 1,
      shred: () =>
        this.#scoped(userId, async (c) => {
          for (const t of [C, G, L, U])
            await c.query(`DELETE FROM ${t} WHERE user_id = $1`, [userId]);
        }),
    };
  }
}
