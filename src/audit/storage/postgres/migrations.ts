/**
 * The PostgreSQL audit schema as versioned migrations, embedded as SQL strings (so they ship inside
 * the bundle with no file copying), applied in order by {@link migratePostgresAuditStore} or
 * `keywarden audit migrate --store postgres://...`, and recorded in
 * `keywarden_audit.schema_migrations`. A migration, once published, never changes; fixes are new
 * migrations.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import type { PgPoolLike } from "../../../guard/pg-like.js";
import { rlsSetupSql } from "../../../guard/rls.js";
import { mapPgError, watchConnection } from "./errors.js";

/** One versioned migration. */
export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The owner value of the operator chain's rows: no user id can take it ('!' is not allowed in user ids). */
export const OPERATOR_OWNER = "!operator";

/** Advisory lock class id of keywarden's audit locks (`pg_advisory_xact_lock(class, key)`). */
export const AUDIT_LOCK_CLASS = 0x4b57_4155;

/** Every migration, in order. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: "001_init",
    sql: `
create table keywarden_audit.entries (
  chain_id text not null,
  seq bigint not null check (seq >= 0),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  body text not null,
  payload text,
  idempotency_key text,
  owner_user_id text not null generated always as
    (case when chain_id = 'operator' then '${OPERATOR_OWNER}' else substr(chain_id, 6) end) stored,
  primary key (chain_id, seq)
);
create unique index entries_idempotency on keywarden_audit.entries (chain_id, idempotency_key)
  where idempotency_key is not null;
create table keywarden_audit.tree_nodes (
  chain_id text not null,
  level int not null check (level >= 0 and level < 64),
  idx bigint not null check (idx >= 0),
  hash bytea not null check (octet_length(hash) = 32),
  owner_user_id text not null generated always as
    (case when chain_id = 'operator' then '${OPERATOR_OWNER}' else substr(chain_id, 6) end) stored,
  primary key (chain_id, level, idx)
);
create table keywarden_audit.checkpoints (
  id bigserial primary key,
  chain_id text not null,
  size bigint not null check (size >= 0),
  note text not null,
  owner_user_id text not null generated always as
    (case when chain_id = 'operator' then '${OPERATOR_OWNER}' else substr(chain_id, 6) end) stored
);
create index checkpoints_latest on keywarden_audit.checkpoints (chain_id, size desc, id desc);
-- Append-only by default: only payload erasure (to NULL) is allowed; deletes only through
-- pruneArchived() (transaction-local keywarden.audit_prune = on). A superuser can still bypass
-- this: verification, not this trigger, is what detects tampering.
create function keywarden_audit.entries_append_only() returns trigger language plpgsql as $fn$
begin
  if tg_op = 'DELETE' then
    if coalesce(current_setting('keywarden.audit_prune', true), '') = 'on' then return old; end if;
    raise exception 'keywarden audit entries are append-only' using errcode = 'KWA01';
  end if;
  if new.chain_id is distinct from old.chain_id or new.seq is distinct from old.seq
     or new.hash is distinct from old.hash or new.body is distinct from old.body
     or new.idempotency_key is distinct from old.idempotency_key
     or (new.payload is not null and new.payload is distinct from old.payload) then
    raise exception 'keywarden audit entries are append-only' using errcode = 'KWA01';
  end if;
  return new;
end $fn$;
create trigger entries_append_only before update or delete on keywarden_audit.entries
  for each row execute function keywarden_audit.entries_append_only();
`,
  },
];

/**
 * Opt-in migrations of the sequencer's queue and lease tables (see `PostgresSequencedAppender`),
 * applied only with `migratePostgresAuditStore(pool, { sequencer: true })`. Their versions start
 * at 1001 so they never collide with the core schema's.
 */
export const POSTGRES_SEQUENCER_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1001,
    name: "1001_sequencer",
    sql: `
create table keywarden_audit.sequencer_queue (
  id bigserial primary key,
  chain_id text not null,
  idempotency_key text not null,
  action text not null,
  payload text not null,
  actor text not null,
  failed_code text,
  enqueued_at timestamptz not null default now(),
  unique (chain_id, idempotency_key)
);
create index sequencer_queue_pending on keywarden_audit.sequencer_queue (chain_id, id)
  where failed_code is null;
create table keywarden_audit.sequencer_leases (
  chain_id text primary key,
  token bigint not null check (token >= 1),
  holder text not null,
  expires_at timestamptz not null
);
`,
  },
  {
    version: 1002,
    name: "1002_sequencer_failed_at",
    sql: `
-- When the sequencer marked a row failed, so purgeFailed() can keep recent refusals for their
-- waiters. Rows already failed before this migration have no such time: they count as failed now.
alter table keywarden_audit.sequencer_queue add column failed_at timestamptz;
update keywarden_audit.sequencer_queue set failed_at = now() where failed_code is not null;
`,
  },
];

/** Options of {@link migratePostgresAuditStore}. */
export interface PostgresMigrateOptions {
  /**
   * Also create the sequencer's queue and lease tables ({@link POSTGRES_SEQUENCER_MIGRATIONS}).
   * A database that already has a sequencer migration gets the later ones without it.
   */
  readonly sequencer?: boolean | undefined;
  /**
   * Also put the audit tables under row-level security per user (see `rlsSetupSql` in
   * `keywarden/guard`): the owner column is `owner_user_id`, and the app role gets only what the
   * store needs (no DELETE, UPDATE of `payload` only).
   */
  readonly rls?: { readonly ownerRole?: string; readonly appRole?: string } | undefined;
}

/** What {@link migratePostgresAuditStore} did. */
export interface PostgresMigrateResult {
  /** Names of the migrations applied by this call, in order (empty when up to date). */
  readonly applied: readonly string[];
  /** The schema version after the call. */
  readonly version: number;
}

/**
 * Brings the audit schema up to date, in one transaction under an advisory lock (concurrent
 * migrators wait, then find nothing to do). Run it as the schema owner, not as the app role.
 *
 * @example
 * ```ts
 * await migratePostgresAuditStore(adminPool, { rls: { appRole: "bot_app" } });
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_CORRUPT` when the database has a newer schema than
 * this keywarden knows; `ERR_AUDIT_STORE_UNAVAILABLE` on database errors.
 */
export async function migratePostgresAuditStore(
  pool: PgPoolLike,
  options: PostgresMigrateOptions = {},
): Promise<PostgresMigrateResult> {
  if (!pool || typeof pool.connect !== "function")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "migrate needs a pg Pool");
  const rls = options.rls
    ? rlsSetupSql({
        tables: ["entries", "tree_nodes", "checkpoints"].map((t) => ({
          table: `keywarden_audit.${t}`,
          ownerColumn: "owner_user_id",
        })),
        ...options.rls,
      })
    : [];
  const appRole = options.rls?.appRole ?? "keywarden_app";
  let client: Awaited<ReturnType<PgPoolLike["connect"]>>;
  try {
    client = await pool.connect();
  } catch (err) {
    throw mapPgError(err);
  }
  let broken: Error | undefined;
  const unwatch = watchConnection(client, () => {
    broken ??= new Error("connection lost");
  });
  try {
    await client.query("begin");
    await client.query("select pg_advisory_xact_lock($1, 0)", [AUDIT_LOCK_CLASS]);
    await client.query("create schema if not exists keywarden_audit");
    await client.query(
      "create table if not exists keywarden_audit.schema_migrations (version int primary key, name text not null, applied_at timestamptz not null default now())",
    );
    const done = await client.query<{ version: number }>(
      "select version from keywarden_audit.schema_migrations order by version",
    );
    const have = new Set(done.rows.map((r) => Number(r.version)));
    const known = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]?.version ?? 0;
    const knownSequencer = POSTGRES_SEQUENCER_MIGRATIONS.map((m) => m.version);
    if ([...have].some((v) => (v > 1000 ? !knownSequencer.includes(v) : v > known)))
      throw new KeywardenError(
        "ERR_AUDIT_STORE_CORRUPT",
        "the audit database has a newer schema than this keywarden",
      );
    const applied: string[] = [];
    // A database that opted into the sequencer once keeps its tables up to date on every migrate.
    const wanted =
      options.sequencer || knownSequencer.some((v) => have.has(v))
        ? [...POSTGRES_MIGRATIONS, ...POSTGRES_SEQUENCER_MIGRATIONS]
        : POSTGRES_MIGRATIONS;
    for (const m of wanted) {
      if (have.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(
        "insert into keywarden_audit.schema_migrations (version, name) values ($1, $2)",
        [m.version, m.name],
      );
      applied.push(m.name);
    }
    for (const sql of rls) await client.query(sql);
    if (options.rls) {
      const app = `"${appRole}"`;
      await client.query(`revoke update, delete on keywarden_audit.entries from ${app}`);
      await client.query(`grant update (payload) on keywarden_audit.entries to ${app}`);
      await client.query(
        `revoke delete on keywarden_audit.tree_nodes, keywarden_audit.checkpoints from ${app}`,
      );
      await client.query(`grant usage on sequence keywarden_audit.checkpoints_id_seq to ${app}`);
    }
    await client.query("commit");
    return { applied, version: known };
  } catch (err) {
    await client.query("rollback").catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error("rollback failed");
    });
    throw mapPgError(err);
  } finally {
    unwatch();
    client.release(broken);
  }
}
