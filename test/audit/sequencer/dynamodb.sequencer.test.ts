/**
 * The DynamoDB sequenced appender against dynalite, in one process: many appenders (each with a
 * client of its own) on one chain, idempotency across appenders, the fence (a batch built on a
 * stale head writes nothing), bounded waits that end in a typed timeout saying whether anything
 * was written, and never `ERR_AUDIT_APPEND_CONTENDED`. Real processes: dynamodb.kill.test.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/audit/core/log.js";
import { DynamoDbSequencedAppender } from "../../../src/audit/sequencer/dynamodb.js";
import {
  createDynamoDbAuditTable,
  type DynamoDbClientLike,
  openDynamoDbAuditStore,
} from "../../../src/audit/storage/dynamodb/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { collect, fakeEntries, freshChain } from "../storage/support/battery.js";
import { logFor, verifyStored } from "../storage/support/chain.js";
import { startDynalite } from "../storage/support/dynalite.js";

let server: Awaited<ReturnType<typeof startDynalite>>;
const TABLE = "audit-seq";
const clients: DynamoDBClient[] = [];
beforeAll(async () => {
  server = await startDynalite();
  await createDynamoDbAuditTable(server.client, TABLE);
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

/** A client of its own, as another process would have. */
function newClient(): DynamoDBClient {
  const c = new DynamoDBClient({
    endpoint: server.endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  clients.push(c);
  return c;
}

type Cmd = { constructor: { name: string }; input: { Item?: { pk?: { S?: string } } } };
const isBlockPut = (cmd: Cmd) =>
  cmd.constructor.name === "PutItemCommand" && cmd.input.Item?.pk?.S?.startsWith("c#") === true;

/** `client` with `hook` in front of each block PutItem (the append's one conditional write). */
function hooked(
  client: DynamoDbClientLike,
  hook: (send: () => Promise<unknown>, cmd: Cmd) => Promise<unknown>,
): DynamoDbClientLike {
  return {
    config: client.config,
    send: (cmd: Cmd) => (isBlockPut(cmd) ? hook(() => client.send(cmd), cmd) : client.send(cmd)),
  };
}

const conditionFailed = () =>
  Object.assign(new Error("The conditional request failed"), {
    name: "ConditionalCheckFailedException",
  });
const input = (userId: string, key: string) => ({
  action: "parameter.changed",
  payload: { name: key, to: 1 },
  actor: hostIdentity(userId),
  idempotencyKey: key,
});
const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));

describe("DynamoDB sequenced appender", () => {
  it("8 appenders × 4 lanes on one chain (a client each): every append acknowledged once, the chain verifies, no CONTENDED", async () => {
    const userId = `many-${Date.now()}`;
    const chainId = `user:${userId}`;
    const appenders = await Promise.all(
      Array.from({ length: 8 }, () =>
        DynamoDbSequencedAppender.open({ client: newClient(), tableName: TABLE }),
      ),
    );
    const acks = await Promise.all(
      appenders.flatMap((a, w) =>
        Array.from({ length: 4 }, async (_, lane) => {
          const out = [];
          for (let i = 0; i < 5; i++)
            out.push(await a.append(chainId, input(userId, `w${w}-l${lane}-${i}`)));
          return out;
        }),
      ),
    );
    await Promise.all(appenders.map((a) => a.close()));
    const store = await openDynamoDbAuditStore({ client: server.client, tableName: TABLE });
    expect(await verifyStored(store, chainId)).toMatchObject({ ok: true, size: 160 });
    const rows = await collect(store.read(chainId, 0));
    for (const a of acks.flat()) {
      expect(rows[a.seq]?.hash).toBe(a.hash);
      expect(rows[a.seq]?.idempotencyKey).toBe(a.idempotencyKey);
    }
  });

  it("a retried append returns the original entry, from another appender too (also two at once)", async () => {
    const userId = `idem-${Date.now()}`;
    const chainId = `user:${userId}`;
    const [a, b] = await Promise.all(
      [0, 1].map(() => DynamoDbSequencedAppender.open({ client: newClient(), tableName: TABLE })),
    );
    if (!a || !b) throw new Error("unreachable");
    const first = await a.append(chainId, input(userId, "K1"));
    expect(await b.append(chainId, input(userId, "K1"))).toEqual(first);
    const [x, y] = await Promise.all([
      a.append(chainId, input(userId, "K2")),
      b.append(chainId, input(userId, "K2")),
    ]);
    expect(x).toEqual(y);
    const store = await openDynamoDbAuditStore({ client: server.client, tableName: TABLE });
    expect(await verifyStored(store, chainId)).toMatchObject({ ok: true, size: 2 });
  });

  it("a batch built on a stale head is fenced out: its conditional write fails and writes nothing, and its caller is acknowledged at the next position", async () => {
    const userId = `fence-${Date.now()}`;
    const chainId = `user:${userId}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let arrived!: () => void;
    const atPut = new Promise<void>((r) => {
      arrived = r;
    });
    const refused: string[] = [];
    let first = true;
    const slow = hooked(newClient(), async (send) => {
      if (first) {
        first = false;
        arrived();
        await gate; // another writer commits at this position meanwhile
      }
      return send().catch((err: Error) => {
        refused.push(err.name);
        throw err;
      });
    });
    const a = await DynamoDbSequencedAppender.open({ client: slow, tableName: TABLE });
    const b = await DynamoDbSequencedAppender.open({ client: newClient(), tableName: TABLE });
    const pa = a.append(chainId, input(userId, "stale"));
    await atPut;
    const eb = await b.append(chainId, input(userId, "winner"));
    release();
    const ea = await pa;
    expect(eb.seq).toBe(0);
    expect(refused).toEqual(["ConditionalCheckFailedException"]);
    expect(ea.seq).toBe(1);
    const store = await openDynamoDbAuditStore({ client: server.client, tableName: TABLE });
    expect(await verifyStored(store, chainId)).toMatchObject({ ok: true, size: 2 });
    const rows = await collect(store.read(chainId, 0));
    expect(rows.map((r) => r.idempotencyKey)).toEqual(["winner", "stale"]);
  });

  it("a DynamoDB append that keeps losing races never fails for contention: it is retried until its deadline, then reported with whether anything may have been written", async () => {
    const chainId = `user:lose-${Date.now()}`;
    const userId = chainId.slice(5);
    const losing = hooked(newClient(), async () => {
      throw conditionFailed(); // every conditional write loses to a writer that is never seen
    });
    // The plain core gives up after its attempts, with CONTENDED (what the appender replaces).
    const store = await openDynamoDbAuditStore({ client: losing, tableName: TABLE });
    const plain = new AuditLog({ store, maxAttempts: 3 });
    expect(code(await plain.appendEntry(chainId, input(userId, "p")).catch((e) => e))).toBe(
      "ERR_AUDIT_APPEND_CONTENDED",
    );
    const a = await DynamoDbSequencedAppender.open({
      client: losing,
      tableName: TABLE,
      timeoutMs: 300,
    });
    const t0 = performance.now();
    const err = await a.append(chainId, input(userId, "q")).catch((e) => e);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(code(err)).toBe("ERR_AUDIT_STORE_UNAVAILABLE");
    expect(err.details).toEqual({ retryable: true, written: false });

    // A fault after which the block may exist: the timeout says so.
    const flaky = hooked(newClient(), async () => {
      throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
    });
    const f = await DynamoDbSequencedAppender.open({
      client: flaky,
      tableName: TABLE,
      timeoutMs: 200,
    });
    const err2 = await f.append(chainId, input(userId, "r")).catch((e) => e);
    expect(code(err2)).toBe("ERR_AUDIT_STORE_UNAVAILABLE");
    expect(err2.details).toEqual({ retryable: true, written: null });
  });

  it("a DynamoDB round is never sent after the earliest deadline of its callers", async () => {
    const chainId = `user:late-${Date.now()}`;
    const userId = chainId.slice(5);
    const sent: number[] = [];
    const inner: DynamoDbClientLike = newClient();
    const losing: DynamoDbClientLike = {
      config: inner.config,
      send: (cmd: Cmd) => {
        if (cmd.constructor.name === "PutItemCommand") sent.push(performance.now());
        if (isBlockPut(cmd)) return Promise.reject(conditionFailed());
        return inner.send(cmd);
      },
    };
    const a = await DynamoDbSequencedAppender.open({
      client: losing,
      tableName: TABLE,
      timeoutMs: 250,
    });
    const pending = [
      a.append(chainId, input(userId, "x")),
      a.append(chainId, input(userId, "y")),
    ] as const;
    // Each caller's deadline is taken synchronously inside append(): both are at most this + 250.
    const latestDeadline = performance.now() + 250;
    const [x, y] = await Promise.allSettled(pending);
    expect([x.status, y.status]).toEqual(["rejected", "rejected"]);
    const count = sent.length;
    expect(count).toBeGreaterThan(3);
    // Every write of a round counts, not only its block: the idempotency reservations too.
    expect(Math.max(...sent)).toBeLessThanOrEqual(latestDeadline);
    await new Promise((r) => setTimeout(r, 100));
    expect(sent.length).toBe(count);
  });

  it("an input refused by the core fails only its own caller; the rest of its round is committed", async () => {
    const userId = `mixed-${Date.now()}`;
    const chainId = `user:${userId}`;
    const a = await DynamoDbSequencedAppender.open({ client: newClient(), tableName: TABLE });
    const results = await Promise.allSettled([
      a.append(chainId, input(userId, "ok-1")),
      a.append(chainId, { ...input(userId, "bad"), actor: hostIdentity("someone-else") }),
      a.append(chainId, input(userId, "ok-2")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(code((results[1] as PromiseRejectedResult).reason)).toBe("ERR_GUARD_UNAUTHENTICATED");
    const store = await openDynamoDbAuditStore({ client: server.client, tableName: TABLE });
    expect(await verifyStored(store, chainId)).toMatchObject({ ok: true, size: 2 });
  });

  it("refuses an unknown action before anything is written, and appends after close", async () => {
    const a = await DynamoDbSequencedAppender.open({ client: newClient(), tableName: TABLE });
    const chainId = `user:closed-${Date.now()}`;
    expect(
      code(
        await a
          .append(chainId, { ...input(chainId.slice(5), "u"), action: "no.such" })
          .catch((e) => e),
      ),
    ).toBe("ERR_AUDIT_UNKNOWN_ACTION");
    await a.close();
    expect(code(await a.append(chainId, input(chainId.slice(5), "v")).catch((e) => e))).toBe(
      "ERR_INVALID_ARGUMENT",
    );
  });
});

describe("DynamoDB store: the SDK's own retry of a landed put", () => {
  it("a DynamoDB append reports a lost race only when the block at its position is another writer's", async () => {
    // The put is sent twice, as the SDK does when the first response is lost: the second finds
    // the block the first wrote, which is this append's own.
    const twice = hooked(newClient(), async (send) => {
      await send();
      return send();
    });
    const store = await openDynamoDbAuditStore({ client: twice, tableName: TABLE });
    const c = freshChain();
    const es = fakeEntries(c, 0, 2, { keys: ["a", "b"] });
    expect(await store.append({ chainId: c, expectedSize: 0, entries: es })).toMatchObject({
      size: 2,
    });
    // Another writer's block at the position is a lost race.
    const other = fakeEntries(c, 0, 2, { tag: "other" });
    expect(
      code(await store.append({ chainId: c, expectedSize: 0, entries: other }).catch((e) => e)),
    ).toBe("ERR_AUDIT_APPEND_CONFLICT");
    expect((await collect(store.read(c, 0))).map((e) => e.hash)).toEqual(es.map((e) => e.hash));
    // And a real chain through the core over that client verifies.
    const { log } = logFor(store);
    await log.appendEntry("user:twice", input("twice", "t1"));
    expect(await verifyStored(store, "user:twice")).toMatchObject({ ok: true, size: 1 });
  });
});
