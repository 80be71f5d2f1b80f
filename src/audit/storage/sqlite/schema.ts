/**
 * The SQLite audit schema. Versioned with `PRAGMA user_version`; a file with a newer version is
 * refused. Entries are keyed by (chain_id, seq) — the primary key is the safety net, the
 * `BEGIN IMMEDIATE` write lock the mechanism. `seq` is computed by the core, never AUTOINCREMENT.
 *
 * @packageDocumentation
 */

/** Current schema version (`PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = 1;

/** Idempotent DDL of schema version 1. */
export const SQLITE_SCHEMA = `
create table if not exists audit_entries (
  chain_id text not null,
  seq integer not null check (seq >= 0),
  hash text not null,
  body text not null,
  payload text,
  idempotency_key text,
  primary key (chain_id, seq)
) without rowid;
create unique index if not exists audit_entries_idempotency
  on audit_entries (chain_id, idempotency_key) where idempotency_key is not null;
create table if not exists audit_tree_nodes (
  chain_id text not null,
  level integer not null,
  idx integer not null,
  hash blob not null,
  primary key (chain_id, level, idx)
) without rowid;
create table if not exists audit_checkpoints (
  id integer primary key autoincrement,
  chain_id text not null,
  size integer not null,
  note text not null
);
create index if not exists audit_checkpoints_latest on audit_checkpoints (chain_id, size desc, id desc);
`;

/**
 * Idempotent DDL of the sequencer's queue and lease tables (see `SqliteSequencedAppender`),
 * created only when the store is opened with `sequencer: true`. A file without them stays at the
 * core schema; `user_version` is not changed by them.
 *
 * - `audit_sequencer_queue`: one row per enqueued entry, unique per `(chain_id, idempotency_key)`;
 *   deleted in the transaction that commits its entry, or marked `failed_code` (payload cleared).
 *   Times are milliseconds since the Unix epoch on the host's clock (one file, one host).
 * - `audit_sequencer_leases`: one row per chain; `token` is the fencing token, incremented by
 *   every takeover.
 */
export const SQLITE_SEQUENCER_SCHEMA = `
create table if not exists audit_sequencer_queue (
  id integer primary key autoincrement,
  chain_id text not null,
  idempotency_key text not null,
  action text not null,
  payload text not null,
  actor text not null,
  failed_code text,
  failed_at integer,
  enqueued_at integer not null,
  unique (chain_id, idempotency_key)
);
create index if not exists audit_sequencer_queue_pending
  on audit_sequencer_queue (chain_id, id) where failed_code is null;
create table if not exists audit_sequencer_leases (
  chain_id text primary key,
  token integer not null check (token > 0),
  holder text not null,
  expires_at integer not null
) without rowid;
`;
