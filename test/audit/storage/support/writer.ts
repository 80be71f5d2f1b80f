/**
 * A writer process for the multi-process and crash tests (run with `node --import tsx`). It
 * appends `count` entries to one chain with `lanes` concurrent async callers, each append with a
 * unique idempotency key, retrying retryable faults with the same key, and reports every
 * acknowledged append on stdout as `ACK <seq> <key> <hash>` (pipes are synchronous on Linux, so a
 * line written before a SIGKILL reaches the parent).
 */
import { AuditLog } from "../../../../src/audit/core/log.js";
import type { AuditStore } from "../../../../src/audit/storage/store.js";
import { TransparencyLog } from "../../../../src/audit/transparency/log.js";
import { LocalEd25519Signer } from "../../../../src/audit/transparency/signer.js";
import { isKeywardenError } from "../../../../src/errors.js";
import { hostIdentity } from "../../../../src/guard/identity.js";

interface Config {
  kind: "postgres" | "sqlite" | "file" | "dynamodb";
  target: string;
  userId: string;
  writer: string;
  count: number;
  lanes: number;
  /** Serve mode (benchmarks): wait for `run <n>` lines on stdin, append n entries, answer `OK`. */
  serve?: boolean;
  /** Skip Merkle tree maintenance (to measure its share of the cost). */
  noTree?: boolean;
  /** Append through the sequencer queue (PostgresSequencedAppender, SqliteSequencedAppender). */
  sequencer?: boolean;
  /** With `sequencer`: the lease duration in ms (the appender's default otherwise). */
  leaseMs?: number;
  /** With `sequencer`: the pool's `application_name` (to stand for one "host"). */
  app?: string;
  /** DynamoDB: the table (`target` is the endpoint URL). */
  table?: string;
  /** Serve mode: spread the appends over this many chains (`user:<userId>-<n>`), one user each. */
  chains?: number;
}

const cfg = JSON.parse(process.argv[2] as string) as Config;
const chainId = `user:${cfg.userId}`;
const actor = hostIdentity(cfg.userId, { id: `writer:${cfg.writer}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The PostgreSQL pool, for the sequenced appender. */
let sequencerPool: import("../../../../src/guard/pg-like.js").PgPoolLike | undefined;
/** The DynamoDB client, for the sequenced appender. */
let dynamoClient: import("@aws-sdk/client-dynamodb").DynamoDBClient | undefined;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function openStore(): Promise<{ store: AuditStore; close(): Promise<void> }> {
  if (cfg.kind === "postgres") {
    const { default: pg } = await import("pg");
    const { createPostgresAuditStore } = await import(
      "../../../../src/audit/storage/postgres/store.js"
    );
    const pool = new pg.Pool({
      connectionString: cfg.target,
      max: 3,
      ...(cfg.app ? { application_name: cfg.app } : {}),
    });
    pool.on("error", () => {}); // idle-client errors during a server restart
    sequencerPool = pool;
    return { store: createPostgresAuditStore({ pool }), close: () => pool.end() };
  }
  if (cfg.kind === "dynamodb") {
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { openDynamoDbAuditStore } = await import(
      "../../../../src/audit/storage/dynamodb/store.js"
    );
    // One client per process (its own connection pool); `app` names the "host" it stands for.
    const client = new DynamoDBClient({
      endpoint: cfg.target,
      region: "eu-west-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      ...(cfg.app ? { customUserAgent: cfg.app } : {}),
    });
    dynamoClient = client;
    const store = await openDynamoDbAuditStore({ client, tableName: cfg.table as string });
    return { store, close: async () => client.destroy() };
  }
  if (cfg.kind === "sqlite") {
    const { openSqliteAuditStore } = await import("../../../../src/audit/storage/sqlite/store.js");
    const store = await openSqliteAuditStore({ database: cfg.target });
    return { store, close: async () => store.close?.() };
  }
  const { openFileAuditStore } = await import("../../../../src/audit/storage/file/store.js");
  // The file store has one writer at a time: take the lock, append a few, let go.
  for (;;) {
    try {
      const store = await openFileAuditStore(cfg.target);
      return { store, close: () => store.close() };
    } catch (err) {
      if (!isKeywardenError(err, "ERR_AUDIT_STORE_LOCKED")) throw err;
      await sleep(2 + Math.random() * 10);
    }
  }
}

type Appender = Pick<AuditLog, "appendEntry">;

const actors = new Map<string, ReturnType<typeof hostIdentity>>();
function target(i: number): { chain: string; who: ReturnType<typeof hostIdentity> } {
  if (!cfg.chains) return { chain: chainId, who: actor };
  const user = `${cfg.userId}-${i % cfg.chains}`;
  let who = actors.get(user);
  if (!who) {
    who = hostIdentity(user, { id: `writer:${cfg.writer}` });
    actors.set(user, who);
  }
  return { chain: `user:${user}`, who };
}

async function appendOne(log: Appender, i: number, report = true): Promise<void> {
  const key = `${cfg.writer}-${i}`;
  const { chain, who } = target(i);
  for (let attempt = 0; ; attempt++) {
    try {
      const e = await log.appendEntry(chain, {
        action: "parameter.changed",
        payload: { name: key, to: i },
        actor: who,
        idempotencyKey: key,
      });
      if (report) say(`ACK ${e.seq} ${key} ${e.hash}`);
      return;
    } catch (err) {
      const retryable =
        isKeywardenError(err) &&
        (err.code === "ERR_AUDIT_APPEND_CONTENDED" || err.details?.retryable === true);
      if (!retryable || attempt > 200) throw err;
      say(`RETRY ${key} ${isKeywardenError(err) ? err.code : "?"}`);
      await sleep(20 + Math.random() * 80);
    }
  }
}

async function main(): Promise<void> {
  if (cfg.kind === "file") {
    let i = 0;
    while (i < cfg.count) {
      const { store, close } = await openStore();
      const log = new AuditLog({ store });
      const n = Math.min(cfg.count - i, 1 + Math.floor(Math.random() * 5));
      await Promise.all(Array.from({ length: n }, (_, k) => appendOne(log, i + k)));
      i += n;
      await close();
    }
  } else {
    const { store, close } = await openStore();
    const tlog = new TransparencyLog({
      store,
      signer: LocalEd25519Signer.generate("audit.test").signer,
      logName: "audit.test",
    });
    let closeSequencer = async () => {};
    let log: Appender = new AuditLog({
      store,
      ...(cfg.noTree ? {} : { treeNodes: tlog.treeNodes }),
      maxAttempts: 1000,
    });
    if (cfg.sequencer) {
      const { DynamoDbSequencedAppender, PostgresSequencedAppender, SqliteSequencedAppender } =
        await import("../../../../src/audit/sequencer/index.js");
      const tree = {
        ...(cfg.noTree ? {} : { treeNodes: tlog.treeNodes }),
        ...(cfg.leaseMs ? { leaseMs: cfg.leaseMs } : {}),
      };
      const seq =
        cfg.kind === "dynamodb"
          ? await DynamoDbSequencedAppender.open({
              client: dynamoClient as NonNullable<typeof dynamoClient>,
              tableName: cfg.table as string,
              ...(cfg.noTree ? {} : { treeNodes: tlog.treeNodes }),
            })
          : cfg.kind === "sqlite"
            ? await SqliteSequencedAppender.open({ database: cfg.target, ...tree })
            : new PostgresSequencedAppender({
                pool: sequencerPool as NonNullable<typeof sequencerPool>,
                ...tree,
              });
      closeSequencer = () => seq.close();
      // The writer reports only seq and hash, which the sequenced entry carries too.
      log = {
        appendEntry: (c, input) =>
          seq.append(c, input) as unknown as ReturnType<Appender["appendEntry"]>,
      };
      say(`HOLDER ${seq.holder}`);
    }
    if (cfg.serve) {
      const { createInterface } = await import("node:readline");
      let base = 0;
      say("READY");
      for await (const line of createInterface({ input: process.stdin })) {
        const n = Number(line.split(" ")[1]);
        let k = 0;
        const took: number[] = [];
        await Promise.all(
          Array.from({ length: cfg.lanes }, async () => {
            for (let i = k++; i < n; i = k++) {
              const t0 = performance.now();
              await appendOne(log, base + i, false);
              took.push(performance.now() - t0);
            }
          }),
        );
        base += n;
        // Each append's latency in ms, for the benchmarks' percentiles.
        say(`OK ${took.map((t) => t.toFixed(2)).join(",")}`);
      }
      await closeSequencer();
      await close();
      return;
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: cfg.lanes }, async () => {
        for (let i = next++; i < cfg.count; i = next++) await appendOne(log, i);
      }),
    );
    await closeSequencer();
    await close();
  }
  say("DONE");
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(
      `writer failed: ${isKeywardenError(err) ? `${err.code} ${err.message}` : String(err)}\n`,
    );
    process.exit(1);
  },
);
