/**
 * `keywarden/vault/sqlite`: a {@link CredentialStore} on SQLite (better-sqlite3, an optional peer
 * dependency, injected as a `Database`). It turns on `PRAGMA secure_delete=ON` so deleted rows —
 * a shredded user's wrapped data key — are overwritten with zeros instead of lingering in free
 * pages, checkpoints the WAL after a shred, and restricts the database files to mode 0600. Backups and copies of the file are not touched.
 *
 * @packageDocumentation
 */
import { chmodSync, existsSync } from "node:fs";
import { KeywardenError } from "../../errors.js";
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

/** The subset of a better-sqlite3 `Database` the store uses. */
export interface SqliteDatabaseLike {
  prepare(sql: string): {
    run(...params: unknown[]): { changes: number };
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  };
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: mirrors better-sqlite3's signature
  transaction(fn: (...args: any[]) => any): (...args: any[]) => any;
  /** The database file path (better-sqlite3 `name`). */
  readonly name?: string;
  /** True for an in-memory database. */
  readonly memory?: boolean;
}

/** Restricts the database file and its -wal/-shm/-journal companions to mode 0600. */
function restrictFileModes(db: SqliteDatabaseLike): void {
  if (db.memory !== false || typeof db.name !== "string" || db.name === "") return;
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    if (existsSync(db.name + suffix)) chmodSync(db.name + suffix, 0o600);
  }
}

const U = TABLES.users;
const C = TABLES.credentials;
const G = TABLES.grants;
const L = TABLES.locks;

/**
 * SQLite credential store.
 *
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * import { SqliteCredentialStore } from "keywarden/vault/sqlite";
 * const store = new SqliteCredentialStore(new Database("/var/lib/keywarden/vault.db"));
 * ```
 */
export class SqliteCredentialStore implements CredentialStore {
  readonly #db: SqliteDatabaseLike;

  /**
   * Creates the tables if needed and enables `secure_delete`.
   *
   * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when SQLite refuses `secure_delete`.
   */
  constructor(db: SqliteDatabaseLike) {
    this.#db = db;
    db.pragma("secure_delete = ON");
    /* Precondition: the store runs only with SQLite's secure_delete on. */
    if (Number(db.pragma("secure_delete", { simple: true })) !== 1) {
      throw new KeywardenError("ERR_NOT_SUPPORTED", "SQLite secure_delete could not be enabled");
    }
    for (const sql of schemaSql("BLOB", "INTEGER", " STRICT")) db.exec(sql);
    restrictFileModes(db);
  }

  /** {@inheritDoc CredentialStore.listUserIds} */
  async listUserIds(): Promise<string[]> {
    const rows = this.#db.prepare(LIST_USER_IDS_SQL).all() as { user_id: unknown }[];
    return rows.map((r) => String(r.user_id)).sort();
  }

  /** {@inheritDoc CredentialStore.forUser} */
  forUser(userId: string): OwnerScopedStore {
    const db = this.#db;
    const commit = db.transaction((change: StoreCommit): boolean => {
      const cur = db.prepare(`SELECT seq FROM ${U} WHERE user_id = ?`).get(userId) as
        | { seq: number }
        | undefined;
      if ((cur?.seq ?? null) !== change.expectedSeq) return false;
      if (change.userKey.userId !== userId) return false;
      db.prepare(`INSERT OR REPLACE INTO ${U} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
        ...userParams(change.userKey),
      );
      const insC = db.prepare(
        `INSERT INTO ${C} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${CREDENTIAL_UPSERT}`,
      );
      for (const c of change.credentials ?? [])
        if (c.userId === userId) insC.run(...credentialParams(c));
      const insG = db.prepare(
        `INSERT INTO ${G} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${GRANT_UPSERT}`,
      );
      for (const g of change.grants ?? []) if (g.userId === userId) insG.run(...grantParams(g));
      return true;
    });
    const shred = db.transaction(() => {
      for (const t of [C, G, L, U]) db.prepare(`DELETE FROM ${t} WHERE user_id = ?`).run(userId);
    });
    return {
      userId,
      getUserKey: async () => {
        const r = db.prepare(`SELECT * FROM ${U} WHERE user_id = ?`).get(userId);
        return r ? toUserKey(r as Record<string, unknown>) : undefined;
      },
      getCredential: async (id) => {
        const r = db
          .prepare(`SELECT * FROM ${C} WHERE user_id = ? AND credential_id = ?`)
          .get(userId, id);
        return r ? toCredential(r as Record<string, unknown>) : undefined;
      },
      listCredentials: async () =>
        db
          .prepare(`SELECT * FROM ${C} WHERE user_id = ? ORDER BY credential_id`)
          .all(userId)
          .map((r) => toCredential(r as Record<string, unknown>)),
      getGrant: async (id) => {
        const r = db
          .prepare(`SELECT * FROM ${G} WHERE user_id = ? AND grant_id = ?`)
          .get(userId, id);
        return r ? toGrant(r as Record<string, unknown>) : undefined;
      },
      listGrants: async () =>
        db
          .prepare(`SELECT * FROM ${G} WHERE user_id = ? ORDER BY grant_id`)
          .all(userId)
          .map((r) => toGrant(r as Record<string, unknown>)),
      commit: async (change) => commit(change) as boolean,
      revokeGrant: async (grantId, revokedAt) =>
        db
          .prepare(
            `UPDATE ${G} SET revoked_at = COALESCE(revoked_at, ?), wrapped_data_key = NULL
             WHERE user_id = ? AND grant_id = ?`,
          )
          .run(revokedAt, userId, grantId).changes === 1,
      getLock: async () => {
        const r = db.prepare(`SELECT * FROM ${L} WHERE user_id = ?`).get(userId);
        return r ? toLock(r as Record<string, unknown>) : undefined;
      },
      lock: async (lock) =>
        db
          .prepare(`INSERT INTO ${L} VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`)
          .run(...lockParams({ ...lock, userId })).changes === 1,
      clearLock: async (lockId) =>
        db.prepare(`DELETE FROM ${L} WHERE user_id = ? AND lock_id = ?`).run(userId, lockId)
          .changes === 1,
      shred: async () => {
        shred();
        // In WAL mode the old pages also live in the -wal file until a checkpoint.
        if (String(db.pragma("journal_mode", { simple: true })).toLowerCase() === "wal") {
          db.pragma("wal_checkpoint(TRUNCATE)");
        }
      },
    };
  }
}
