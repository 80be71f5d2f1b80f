/**
 * `keywarden audit sequencer`: an optional dedicated sequencer process for the PostgreSQL or
 * SQLite sequencer queue. Writers do not need it (any writer takes a lapsed lease); it is for fleets
 * that prefer one process to do the integrating, or to sequence entries whose writers died.
 *
 * @packageDocumentation
 */
import { isAbsolute, join } from "node:path";
import { parseArgs } from "node:util";
import { isKeywardenError } from "../errors.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";
import { openPgPool, STORE_USAGE, storeUrlText } from "./store-open.js";
import { parseStoreUrl, type StoreUrl } from "./store-url.js";

const USAGE = `Usage: keywarden audit sequencer (--store URL | --store-env NAME) [options]

Runs as the sequencer of every chain with entries in the sequencer queue: PostgreSQL
(keywarden_audit.sequencer_queue, created by migratePostgresAuditStore(pool, { sequencer: true }))
or SQLite (--store sqlite:PATH; audit_sequencer_queue, created by openSqliteAuditStore with
sequencer: true, or by this command):
takes each chain's lease, sequences its queued entries in batches and lets the lease go. Writers
do not need this process (any writer takes a lapsed lease); run it when one process should do
the integrating, or to sequence entries whose writers died. Until SIGINT/SIGTERM, or with --once
until the queue is empty. It LISTENs for enqueue notifications and also polls every --poll-ms.

Options:
${STORE_USAGE}
  --once              sequence what is queued now, then exit
  --poll-ms N         how often to look for queued entries without a notification
                      (default 200; 10..60000; enqueues wake it at once through LISTEN)
  --lease-ms N        lease duration (default 2000; 200..60000)
  --purge-failed      delete the queue rows the sequencer marked failed (refused entries), those
                      failed --older-than-ms ago (default 600000), print how many, exit
                      (PostgreSQL: needs migration 1002_sequencer_failed_at)
  --older-than-ms N   with --purge-failed (0 purges every failed row)
  --json              print {"ok":true,"chains":[ids]} per pass that sequenced something
                      ({"ok":true,"purged":N} with --purge-failed)
  -h, --help          this help`;

/**
 * The `audit sequencer` command (wired by the `audit` command group).
 *
 * @example
 * ```sh
 * KW_AUDIT_DB=postgres://app@db/app keywarden audit sequencer --store-env KW_AUDIT_DB
 * ```
 * @throws never for usage errors (they return exit code 2); store errors propagate to the dispatcher.
 */
export const sequencerCommand: Command = {
  summary: "Run a dedicated sequencer for the PostgreSQL or SQLite audit sequencer queue",
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        store: { type: "string" },
        "store-env": { type: "string" },
        once: { type: "boolean", default: false },
        "poll-ms": { type: "string" },
        "lease-ms": { type: "string" },
        "purge-failed": { type: "boolean", default: false },
        "older-than-ms": { type: "string" },
        json: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const given = storeUrlText(values, io);
    if (given === undefined) {
      println(io.stderr, `keywarden: give exactly one of --store or --store-env\n\n${USAGE}`);
      return EXIT.usage;
    }
    const { text, source } = given;
    const int = (v: string | undefined, d: number, lo: number, hi: number) => {
      const n = v === undefined ? d : Number(v);
      return Number.isSafeInteger(n) && n >= lo && n <= hi ? n : undefined;
    };
    const pollMs = int(values["poll-ms"], 200, 10, 60_000);
    const leaseMs = int(values["lease-ms"], 2000, 200, 60_000);
    const olderThanMs = int(values["older-than-ms"], 600_000, 0, Number.MAX_SAFE_INTEGER);
    if (pollMs === undefined || leaseMs === undefined || olderThanMs === undefined) {
      println(
        io.stderr,
        "keywarden: --poll-ms must be 10..60000, --lease-ms 200..60000 and --older-than-ms ≥ 0",
      );
      return EXIT.usage;
    }
    let url: StoreUrl;
    try {
      url = parseStoreUrl(text, source, io.env);
    } catch (err) {
      if (!isKeywardenError(err, "ERR_INVALID_ARGUMENT")) throw err;
      println(io.stderr, `keywarden: ${err.message}`);
      return EXIT.usage;
    }
    if (url.kind !== "postgres" && url.kind !== "sqlite") {
      println(
        io.stderr,
        "keywarden: the sequencer queue exists only for PostgreSQL and SQLite stores",
      );
      return EXIT.usage;
    }
    const { PostgresSequencedAppender, SqliteSequencedAppender } = await import(
      "../audit/sequencer/index.js"
    );
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    const reportPurged = (purged: number) =>
      println(
        io.stdout,
        values.json
          ? JSON.stringify({ ok: true, purged })
          : `purged ${purged} failed queue row${purged === 1 ? "" : "s"}`,
      );
    const report = (chains: string[]) =>
      println(
        io.stdout,
        values.json
          ? JSON.stringify({ ok: true, chains })
          : `sequenced ${chains.length} chain${chains.length === 1 ? "" : "s"}${chains.length ? `: ${chains.join(", ")}` : ""}`,
      );
    if (url.kind === "sqlite") {
      const path = isAbsolute(url.path) ? url.path : join(io.cwd, url.path);
      const sqlite = await SqliteSequencedAppender.open({ database: path, leaseMs });
      if (values["purge-failed"]) {
        try {
          reportPurged((await sqlite.purgeFailed({ olderThanMs })).purged);
        } finally {
          await sqlite.close();
        }
        return EXIT.ok;
      }
      if (!values.once) {
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      }
      try {
        // SQLite has no notifications: look every --poll-ms.
        for (;;) {
          const chains = await sqlite.drainQueued();
          if (chains.length > 0 || values.once) report(chains);
          if (values.once || stop.signal.aborted) break;
          await new Promise<void>((r) => {
            const t = setTimeout(done, pollMs);
            function done() {
              clearTimeout(t);
              stop.signal.removeEventListener("abort", done);
              r();
            }
            stop.signal.addEventListener("abort", done);
          });
          if (stop.signal.aborted) break;
        }
      } finally {
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
        await sqlite.close();
      }
      return EXIT.ok;
    }
    const pool = await openPgPool(url, io, { readOnly: false, max: 3 });
    const appender = new PostgresSequencedAppender({ pool: pool as never, leaseMs });
    if (values["purge-failed"]) {
      try {
        reportPurged((await appender.purgeFailed({ olderThanMs })).purged);
      } finally {
        await appender.close();
        await pool.end();
      }
      return EXIT.ok;
    }
    if (!values.once) {
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    }
    try {
      // Woken by enqueue notifications (LISTEN), with the --poll-ms poll as the fallback.
      if (values.once) report(await appender.drainQueued());
      else await appender.serve({ signal: stop.signal, pollMs, onPass: report });
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      await appender.close();
      await pool.end();
    }
    return EXIT.ok;
  },
};
