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
