/**
 * Shared SQL schema and row mapping of the SQLite and PostgreSQL stores. Every table's primary
 * key starts with `user_id`, and every statement of the stores filters on it.
 *
 * @packageDocumentation
 */
import { parseJson } from "../../canonical.js";
import { KeywardenError } from "../../errors.js";
import type { CredentialRow, GrantRow, UserKeyRow, UserLockRow } from "./store.js";

/** Table names. */
export const TABLES = {
  users: "keywarden_vault_users",
  credentials: "keywarden_vault_credentials",
  grants: "keywarden_vault_grants",
  locks: "keywarden_vault_locks",
} as const;

/** DDL for both dialects: `blob` is BLOB or BYTEA, `int` INTEGER or BIGINT. */
export function schemaSql(blob: string, int: string, strict: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${TABLES.users} (
      user_id TEXT NOT NULL PRIMARY KEY, kms TEXT NOT NULL, key_id TEXT NOT NULL,
      wrapped_data_key ${blob} NOT NULL, manifest ${blob} NOT NULL, seq ${int} NOT NULL,
      created_at ${int} NOT NULL, updated_at ${int} NOT NULL)${strict}`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.credentials} (
      user_id TEXT NOT NULL, credential_id TEXT NOT NULL, exchange TEXT NOT NULL, label TEXT,
      revision ${int} NOT NULL, disabled ${int} NOT NULL, sealed ${blob} NOT NULL,
      created_at ${int} NOT NULL, updated_at ${int} NOT NULL,
      PRIMARY KEY (user_id, credential_id))${strict}`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.grants} (
      user_id TEXT NOT NULL, grant_id TEXT NOT NULL, exchanges TEXT NOT NULL, actions TEXT NOT NULL,
      created_at ${int} NOT NULL, expires_at ${int} NOT NULL, revoked_at ${int},
      wrapped_data_key ${blob}, key_id TEXT NOT NULL,
      PRIMARY KEY (user_id, grant_id))${strict}`,
    `CREATE TABLE IF NOT EXISTS ${TABLES.locks} (
      user_id TEXT NOT NULL PRIMARY KEY, lock_id TEXT NOT NULL, locked_at ${int} NOT NULL,
      reason TEXT NOT NULL, locked_by TEXT NOT NULL)${strict}`,
  ];
}

// biome-ignore lint/suspicious/noExplicitAny: database rows are validated field by field
type Raw = Record<string, any>;

const corrupt = () => new KeywardenError("ERR_VAULT_FORMAT", "vault row is malformed");
const bytes = (v: unknown): Uint8Array => {
  if (!(v instanceof Uint8Array)) throw corrupt();
  return new Uint8Array(v);
};
const num = (v: unknown): number => {
  const n = typeof v === "bigint" ? Number(v) : typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) throw corrupt();
  return n;
};
const str = (v: unknown): string => {
  if (typeof v !== "string") throw corrupt();
  return v;
};
const strings = (v: unknown): string[] => {
  const a = parseJson(str(v));
  if (!Array.isArray(a) || !a.every((x) => typeof x === "string")) throw corrupt();
  return a as string[];
};

export function toUserKey(r: Raw): UserKeyRow {
  return {
    userId: str(r.user_id),
    kms: str(r.kms),
    keyId: str(r.key_id),
    wrappedDataKey: bytes(r.wrapped_data_key),
    manifest: bytes(r.manifest),
    seq: num(r.seq),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toCredential(r: Raw): CredentialRow {
  return {
    userId: str(r.user_id),
    credentialId: str(r.credential_id),
    exchange: str(r.exchange),
    label: r.label === null ? null : str(r.label),
    revision: num(r.revision),
    disabled: num(r.disabled) !== 0,
    sealed: bytes(r.sealed),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toGrant(r: Raw): GrantRow {
  return {
    userId: str(r.user_id),
    grantId: str(r.grant_id),
    exchanges: strings(r.exchanges),
    actions: strings(r.actions),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    revokedAt: r.revoked_at === null ? null : num(r.revoked_at),
    wrappedDataKey: r.wrapped_data_key === null ? null : bytes(r.wrapped_data_key),
    keyId: str(r.key_id),
  };
}

export function toLock(r: Raw): UserLockRow {
  return {
    userId: str(r.user_id),
    lockId: str(r.lock_id),
    lockedAt: num(r.locked_at),
    reason: str(r.reason),
    lockedBy: str(r.locked_by),
  };
}

/** Every user id with any row (unordered: callers sort in code, independent of collations). */
export const LIST_USER_IDS_SQL = `SELECT user_id FROM ${TABLES.users}
  UNION SELECT user_id FROM ${TABLES.credentials} UNION SELECT user_id FROM ${TABLES.grants}
  UNION SELECT user_id FROM ${TABLES.locks}`;

/** Parameter lists in column order (for INSERT statements). */
export const userParams = (k: UserKeyRow) => [
  k.userId,
  k.kms,
  k.keyId,
  k.wrappedDataKey,
  k.manifest,
  k.seq,
  k.createdAt,
  k.updatedAt,
];
export const credentialParams = (c: CredentialRow) => [
  c.userId,
  c.credentialId,
  c.exchange,
  c.label,
  c.revision,
  c.disabled ? 1 : 0,
  c.sealed,
  c.createdAt,
  c.updatedAt,
];
export const lockParams = (l: UserLockRow) => [
  l.userId,
  l.lockId,
  l.lockedAt,
  l.reason,
  l.lockedBy,
];
export const grantParams = (g: GrantRow) => [
  g.userId,
  g.grantId,
  JSON.stringify(g.exchanges),
  JSON.stringify(g.actions),
  g.createdAt,
  g.expiresAt,
  g.revokedAt,
  g.wrappedDataKey,
  g.keyId,
];

/** Upsert tails: a grant's revocation is never cleared, nor its dropped key restored. */
export const CREDENTIAL_UPSERT = `ON CONFLICT (user_id, credential_id) DO UPDATE SET
  exchange = excluded.exchange, label = excluded.label, revision = excluded.revision,
  disabled = excluded.disabled, sealed = excluded.sealed, updated_at = excluded.updated_at`;
export const GRANT_UPSERT = `ON CONFLICT (user_id, grant_id) DO UPDATE SET
  exchanges = excluded.exchanges, actions = excluded.actions, expires_at = excluded.expires_at,
  revoked_at = COALESCE(${TABLES.grants}.revoked_at, excluded.revoked_at),
  wrapped_data_key = CASE WHEN ${TABLES.grants}.revoked_at IS NULL THEN excluded.wrapped_data_key ELSE NULL END,
  key_id = excluded.key_id`;
