/**
 * `keywarden/vault/postgres`: a {@link CredentialStore} on PostgreSQL through an injected pool
 * (typed structurally; `pg.Pool` fits). Deleting rows leaves dead tuples until VACUUM, and old
 * row versions stay in WAL archives and base backups: see {@link PostgresCredentialStore.vacuum}
 * and docs/kms-setup.md §Deletion.
 *
 * @packageDocumentation
 */
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
} from "./sql-rows.js";
import type { CredentialStore, OwnerScopedStore, StoreCommit } from "./store.js";

/** Result of a query. */
export interface PgResultLike {
  // biome-ignore lint/suspicious/noExplicitAny: rows are validated by the mappers
  rows: any[];
  rowCount: number | null;
}

/** A pooled client (for transactions). */
export interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  release(): void;
}

/** The subset of `pg.Pool` the store uses. */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  connect(): Promise<PgClientLike>;
}

const U = TABLES.users;
const C = TABLES.credentials;
const G = TABLES.grants;
const L = TABLES.locks;
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
 * ```
 */
export class PostgresCredentialStore implements CredentialStore {
  readonly #pool: PgPoolLike;

  constructor(pool: PgPoolLike) {
    this.#pool = pool;
  }

  /** Creates the tables if they do not exist. */
  async migrate(): Promise<void> {
    for (const sql of schemaSql("BYTEA", "BIGINT", "")) await this.#pool.query(sql);
  }

  /**
   * Rewrites the vault tables so that dead tuples of deleted (shredded) rows are removed from the
   * table files: `VACUUM FULL` (takes an exclusive lock). WAL archives and backups are unaffected.
   */
  async vacuum(): Promise<void> {
    await this.#pool.query(`VACUUM (FULL) ${U}, ${C}, ${G}, ${L}`);
  }

  async #tx<T>(fn: (c: PgClientLike) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  /** {@inheritDoc CredentialStore.listUserIds} */
  async listUserIds(): Promise<string[]> {
    const r = await this.#pool.query(LIST_USER_IDS_SQL);
    return r.rows.map((row: { user_id: unknown }) => String(row.user_id)).sort();
  }

  /** {@inheritDoc CredentialStore.forUser} */
  forUser(userId: string): OwnerScopedStore {
    const q = (text: string, values: unknown[]) => this.#pool.query(text, values);
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
        this.#tx(async (c) => {
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
          if (r.rowCount !== 1) {
            await c.query("ROLLBACK");
            await c.query("BEGIN"); // keep #tx's COMMIT harmless
            return false;
          }
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
        this.#tx(async (c) => {
          for (const t of [C, G, L, U])
            await c.query(`DELETE FROM ${t} WHERE user_id = $1`, [userId]);
        }),
    };
  }
}
