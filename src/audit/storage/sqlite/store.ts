/**
 * The SQLite {@link AuditStore} (`keywarden/audit/sqlite`), on better-sqlite3: WAL journal, every
 * append in a `BEGIN IMMEDIATE` transaction (the per-database write lock serializes writers, also
 * across processes), `unique (chain_id, seq)` and per-chain unique idempotency keys as safety nets,
 * Merkle tree nodes and checkpoints in their own tables, and erasure with `secure_delete` plus a
 * WAL truncation so an erased payload is gone from the files, not just hidden.
 *
 * Group commit: append requests that arrive while the event loop is busy are committed together in
 * one transaction (one fsync), each inside its own SAVEPOINT so that one request's conflict never
 * fails its neighbours.
 *
 * better-sqlite3 is synchronous: a writer waiting for another process's lock blocks its event loop
 * for up to `busyTimeoutMs`. Use the PostgreSQL store for many busy writer processes.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import type {
  AppendRequest,
  AppendResult,
  AuditStore,
  StoredCheckpoint,
  StoredEntry,
  TreeNodeKey,
} from "../index.js";
import type { SqliteDatabaseLike, SqliteStatementLike } from "./like.js";
import { SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION, SQLITE_SEQUENCER_SCHEMA } from "./schema.js";

export type {
  SqliteDatabaseLike,
  SqliteStatementLike,
  SqliteTransactionLike,
} from "./like.js";

/** Options of {@link openSqliteAuditStore}. */
export interface SqliteAuditStoreOptions {
  /** A database file path (better-sqlite3 is loaded lazily), or an open better-sqlite3 `Database`. */
  readonly database: string | SqliteDatabaseLike;
  /**
   * `FULL` (default) fsyncs the WAL on every commit: a committed append survives power loss.
   * `NORMAL` survives a process crash but may lose the last commits on power loss.
   */
  readonly synchronous?: "FULL" | "NORMAL" | undefined;
  /** How long to wait for another connection's write lock before failing as unavailable (default 10000). */
  readonly busyTimeoutMs?: number | undefined;
  /** Commit concurrent append requests together (default true). */
  readonly groupCommit?: boolean | undefined;
  /**
   * Open an existing database file read-only (SQLite refuses every write; the schema is neither
   * created nor upgraded). For exports and verification beside a running writer.
   */
  readonly readOnly?: boolean | undefined;
  /**
   * Also create the sequencer's queue and lease tables ({@link SQLITE_SEQUENCER_SCHEMA}), for
   * `SqliteSequencedAppender` (`keywarden/audit/sequencer/sqlite`). Opt-in; ignored with `readOnly`.
   */
  readonly sequencer?: boolean | undefined;
}

/** The SQLite store: the contract plus retention. */
export interface SqliteAuditStore extends AuditStore {
  /**
   * Deletes entries `seq < beforeSeq` of a chain after they were archived (retention), keeping tree
   * nodes and checkpoints so proofs stay valid. `archivedHeadHash` must equal the stored hash of
   * entry `beforeSeq - 1`; the newest entry is never pruned. Deleted bytes are zeroed
   * (`secure_delete`) and the WAL truncated.
   *
   * @example
   * ```ts
   * await store.pruneArchived("user:42", 100_000, archive.lastHash);
   * ```
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the range or hash does not match.
   */
  pruneArchived(
    chainId: string,
    beforeSeq: number,
    archivedHeadHash: string,
  ): Promise<{ deleted: number }>;
}

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

const PAGE = 512;

function conflict(message: string): KeywardenError {
  return new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", message);
}

/**
 * Maps a better-sqlite3 error: constraint violations are lost races (`ERR_AUDIT_APPEND_CONFLICT`),
 * busy/locked/IO errors are retryable faults (`ERR_AUDIT_STORE_UNAVAILABLE` with
 * `details.retryable` and `details.driverCode`); a `KeywardenError` passes through.
 *
 * @example
 * ```ts
 * try { stmt.run(); } catch (err) { throw mapSqliteError(err); }
 * ```
 * @throws never; returns the mapped error.
 */
export function mapSqliteError(err: unknown): unknown {
  if (err instanceof KeywardenError) return err;
  const code =
    typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
  if (code.startsWith("SQLITE_CONSTRAINT")) return conflict("seq or idempotency key already used");
  const retryable =
    code.startsWith("SQLITE_BUSY") ||
    code.startsWith("SQLITE_LOCKED") ||
    code.startsWith("SQLITE_IOERR") ||
    code === "SQLITE_FULL";
  return new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "the SQLite audit store failed", {
    cause: err,
    details: { retryable, driverCode: code || null },
  });
}

function toEntry(row: {
  seq: number;
  hash: string;
  body: string;
  payload: string | null;
  idempotency_key: string | null;
}): StoredEntry {
  return {
    seq: row.seq,
    hash: row.hash,
    body: row.body,
    payload: row.payload,
    ...(row.idempotency_key === null ? {} : { idempotencyKey: row.idempotency_key }),
  };
}

/**
 * Opens a better-sqlite3 `Database` (loaded lazily; it is an optional peer), or returns the one
 * given. No pragma is set and no schema is created: {@link openSqliteAuditStore} does that.
 *
 * @example
 * ```ts
 * const db = await openSqliteDatabase("/var/lib/bot/audit.db", false);
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when better-sqlite3 is not installed; the driver's
 * error when the file cannot be opened.
 */
export async function openSqliteDatabase(
  database: string | SqliteDatabaseLike,
  readOnly: boolean,
): Promise<SqliteDatabaseLike> {
  if (typeof database !== "string") return database;
  let mod: {
    default: new (
      path: string,
      options?: { readonly?: boolean; fileMustExist?: boolean },
    ) => SqliteDatabaseLike;
  };
  try {
    mod = (await import("better-sqlite3")) as unknown as typeof mod;
  } catch (err) {
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "the SQLite audit store needs better-sqlite3 12.x (npm install better-sqlite3@12)",
      { cause: err },
    );
  }
  return readOnly
    ? new mod.default(database, { readonly: true, fileMustExist: true })
    : new mod.default(database);
}

/**
 * Opens (creating the schema when missing) an SQLite audit store with every capability.
 *
 * @example
 * ```ts
 * import { AuditLog } from "keywarden/audit";
 * import { openSqliteAuditStore } from "keywarden/audit/sqlite";
 * const store = await openSqliteAuditStore({ database: "/var/lib/bot/audit.db" });
 * const log = new AuditLog({ store });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on bad options; `ERR_NOT_SUPPORTED` when
 * better-sqlite3 is not installed; `ERR_AUDIT_STORE_CORRUPT` when the
 * file holds a newer schema version; `ERR_AUDIT_STORE_UNAVAILABLE` when the file cannot be opened.
 */
export async function openSqliteAuditStore(
  options: SqliteAuditStoreOptions,
): Promise<SqliteAuditStore> {
  const sync = options?.synchronous ?? "FULL";
  const busy = options?.busyTimeoutMs ?? 10_000;
  if (
    !options ||
    (typeof options.database !== "string" && typeof options.database?.prepare !== "function")
  )
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "database must be a path or a better-sqlite3 Database",
    );
  if (sync !== "FULL" && sync !== "NORMAL")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "synchronous must be FULL or NORMAL");
  if (!Number.isSafeInteger(busy) || busy < 0 || busy > 600_000)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "busyTimeoutMs must be 0..600000");
  let db: SqliteDatabaseLike;
  try {
    db = await openSqliteDatabase(options.database, options.readOnly === true);
    db.pragma(`busy_timeout = ${busy}`);
    if (options.readOnly !== true) {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${sync}`);
      db.pragma("secure_delete = ON");
    }
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION)
      throw new KeywardenError(
        "ERR_AUDIT_STORE_CORRUPT",
        "the audit database has a newer schema than this keywarden",
      );
    /* Precondition: a read-only open never creates or upgrades the schema. */
    if (version < SQLITE_SCHEMA_VERSION && options.readOnly === true)
      throw new KeywardenError(
        "ERR_AUDIT_STORE_CORRUPT",
        "not a keywarden audit database at the current schema (open it writable once to migrate)",
      );
    if (version < SQLITE_SCHEMA_VERSION)
      db.transaction(() => {
        db.exec(SQLITE_SCHEMA);
        db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
      }).immediate();
    if (options.sequencer === true && options.readOnly !== true)
      db.transaction(() => db.exec(SQLITE_SEQUENCER_SCHEMA)).immediate();
  } catch (err) {
    throw mapSqliteError(err);
  }
  return createStore(db, options.groupCommit ?? true);
}

function createStore(db: SqliteDatabaseLike, groupCommit: boolean): SqliteAuditStore {
  const q = (sql: string): SqliteStatementLike => db.prepare(sql);
  const headStmt = q(
    "select seq, hash from audit_entries where chain_id = ? order by seq desc limit 1",
  );
  const keyStmt = q(
    "select seq, hash, body, payload, idempotency_key from audit_entries where chain_id = ? and idempotency_key = ?",
  );
  const insertEntry = q(
    "insert into audit_entries (chain_id, seq, hash, body, payload, idempotency_key) values (?, ?, ?, ?, ?, ?)",
  );
  const upsertNode = q(
    "insert into audit_tree_nodes (chain_id, level, idx, hash) values (?, ?, ?, ?) on conflict (chain_id, level, idx) do update set hash = excluded.hash",
  );
  const page = q(
    "select seq, hash, body, payload, idempotency_key from audit_entries where chain_id = ? and seq >= ? and seq < ? order by seq limit ?",
  );
  const erase = q("update audit_entries set payload = null where chain_id = ? and seq = ?");
  const exists = q("select 1 from audit_entries where chain_id = ? and seq = ?");
  const hashAt = q("select hash from audit_entries where chain_id = ? and seq = ?");
  const prune = q("delete from audit_entries where chain_id = ? and seq < ?");
  const getNode = q(
    "select hash from audit_tree_nodes where chain_id = ? and level = ? and idx = ?",
  );
  const putCp = q("insert into audit_checkpoints (chain_id, size, note) values (?, ?, ?)");
  const latestCp = q(
    "select size, note from audit_checkpoints where chain_id = ? order by size desc, id desc limit 1",
  );

  const size = (chainId: string): { size: number; headHash: string | null } => {
    const row = headStmt.get(chainId) as { seq: number; hash: string } | undefined;
    return row ? { size: row.seq + 1, headHash: row.hash } : { size: 0, headHash: null };
  };

  const appendOne = db.transaction((r: AppendRequest): AppendResult => {
    /* Precondition: an append commits only when the chain's size, read under the write lock, is still expectedSize. */
    if (size(r.chainId).size !== r.expectedSize) throw conflict("chain size changed");
    for (const e of r.entries) {
      /* Precondition: an idempotency key is used at most once per chain. */
      if (e.idempotencyKey !== undefined && keyStmt.get(r.chainId, e.idempotencyKey) !== undefined)
        throw conflict("idempotency key already used");
      insertEntry.run(r.chainId, e.seq, e.hash, e.body, e.payload, e.idempotencyKey ?? null);
    }
    for (const n of r.treeNodes ?? [])
      upsertNode.run(r.chainId, n.level, n.index, Buffer.from(n.hash));
    const last = r.entries[r.entries.length - 1] as StoredEntry;
    return { size: r.expectedSize + r.entries.length, headHash: last.hash };
  });
  // Outer transaction: one BEGIN IMMEDIATE ... COMMIT (one fsync); each request in a SAVEPOINT.
  const appendMany = db.transaction((batch: readonly Pending[]) =>
    batch.map((p) => {
      try {
        return { ok: appendOne(p.request) } as const;
      } catch (err) {
        return { err: mapSqliteError(err) } as const;
      }
    }),
  );

  let queue: Pending[] = [];
  const flush = (): void => {
    const batch = queue;
    queue = [];
    let results: ReturnType<typeof appendMany>;
    try {
      results = appendMany.immediate(batch);
    } catch (err) {
      const mapped = mapSqliteError(err);
      for (const p of batch) p.reject(mapped);
      return;
    }
    results.forEach((r, i) => {
      if ("ok" in r) batch[i]?.resolve(r.ok);
      else batch[i]?.reject(r.err);
    });
  };

  return {
    capabilities: { idempotency: true, treeNodes: true, checkpoints: true },

    async head(chainId) {
      try {
        return size(chainId);
      } catch (err) {
        throw mapSqliteError(err);
      }
    },

    append(request) {
      if (
        !request ||
        !Array.isArray(request.entries) ||
        request.entries.length === 0 ||
        request.entries.some((e, i) => e?.seq !== request.expectedSize + i)
      )
        return Promise.reject(
          new KeywardenError(
            "ERR_INVALID_ARGUMENT",
            "append needs contiguous entries starting at expectedSize",
          ),
        );
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        if (!groupCommit) flush();
        else if (queue.length === 1) setImmediate(flush);
      });
    },

    async *read(chainId, from, to) {
      let next = Math.max(0, from);
      const end = to ?? size(chainId).size;
      while (next < end) {
        let rows: ReturnType<typeof toEntry>[];
        try {
          rows = (page.all(chainId, next, end, PAGE) as Parameters<typeof toEntry>[0][]).map(
            toEntry,
          );
        } catch (err) {
          throw mapSqliteError(err);
        }
        for (const row of rows) yield row;
        if (rows.length < PAGE) return;
        next = (rows[rows.length - 1] as StoredEntry).seq + 1;
      }
    },

    async erasePayload(chainId, seq) {
      try {
        if (exists.get(chainId, seq) === undefined)
          throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
        erase.run(chainId, seq);
        // The old page image lives on in the WAL until a checkpoint copies the (zeroed) page back
        // and the WAL is truncated. Best effort: another process's open read transaction can delay it.
        db.pragma("wal_checkpoint(TRUNCATE)");
      } catch (err) {
        throw mapSqliteError(err);
      }
    },

    async findByIdempotencyKey(chainId, idempotencyKey) {
      const row = keyStmt.get(chainId, idempotencyKey) as Parameters<typeof toEntry>[0] | undefined;
      return row ? toEntry(row) : undefined;
    },

    async getTreeNodes(chainId, keys: readonly TreeNodeKey[]) {
      return keys.map((k) => {
        const row = getNode.get(chainId, k.level, k.index) as { hash: Buffer } | undefined;
        return row ? new Uint8Array(row.hash) : undefined;
      });
    },

    async putCheckpoint(chainId, checkpoint: StoredCheckpoint) {
      try {
        putCp.run(chainId, checkpoint.size, checkpoint.note);
      } catch (err) {
        throw mapSqliteError(err);
      }
    },

    async latestCheckpoint(chainId) {
      const row = latestCp.get(chainId) as { size: number; note: string } | undefined;
      return row ? { size: row.size, note: row.note } : undefined;
    },

    async pruneArchived(chainId, beforeSeq, archivedHeadHash) {
      if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1)
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "beforeSeq must be a positive integer");
      try {
        const deleted = db
          .transaction(() => {
            /* Precondition: pruning keeps the newest entry, so the chain's head is never lost. */
            if (size(chainId).size <= beforeSeq)
              throw new KeywardenError(
                "ERR_INVALID_ARGUMENT",
                "pruning must keep the newest entry",
              );
            const at = hashAt.get(chainId, beforeSeq - 1) as { hash: string } | undefined;
            /* Precondition: only a range whose archived head hash matches the stored one is pruned. */
            if (at?.hash !== archivedHeadHash)
              throw new KeywardenError(
                "ERR_INVALID_ARGUMENT",
                "archived head hash does not match the stored entry",
              );
            return prune.run(chainId, beforeSeq).changes;
          })
          .immediate();
        db.pragma("wal_checkpoint(TRUNCATE)");
        return { deleted };
      } catch (err) {
        throw mapSqliteError(err);
      }
    },

    async close() {
      if (queue.length > 0) flush();
      if (db.open) db.close();
    },
  };
}
