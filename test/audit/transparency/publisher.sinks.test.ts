import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import {
  CheckpointPublisher,
  type PublishError,
  type UserDelivery,
} from "../../../src/audit/transparency/publisher.js";
import { verifyReceipt } from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  callbackCheckpointSink,
  fileCheckpointSink,
  httpCheckpointSink,
} from "../../../src/audit/transparency/sinks.js";
import { isKeywardenError } from "../../../src/errors.js";
import { appendEntries, createTestStore } from "./support.js";

const CHAIN = "user:9";

function setup() {
  const store = createTestStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const log = new TransparencyLog({ store, signer, logName: "audit.example.com" });
  return { store, signer, log, logKeys: [parseVerifierKey(signer.verifierKey)] };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

describe("HTTP checkpoint sink (local server on 127.0.0.1)", () => {
  let server: Server;
  let url: string;
  let plan: number[];
  let received: { body: string; headers: IncomingMessage["headers"] }[];
  beforeEach(async () => {
    plan = [];
    received = [];
    server = createServer(async (req, res) => {
      const status = plan.shift() ?? 200;
      if (status === 0) {
        req.socket.destroy(); // connection reset
        return;
      }
      received.push({ body: await body(req), headers: req.headers });
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("retries connection resets, 503 and 429 with backoff, then delivers the note", async () => {
    plan = [0, 503, 429, 200];
    const sink = httpCheckpointSink(url, { attempts: 4, backoffMs: 5 });
    await sink.publish({
      chainId: CHAIN,
      origin: "o",
      size: 3,
      note: "o\n3\nAA==\n\n\u2014 o AAAA\n",
    });
    const last = received[received.length - 1];
    expect(last?.body).toBe("o\n3\nAA==\n\n\u2014 o AAAA\n");
    expect(last?.headers["keywarden-chain"]).toBe(CHAIN);
    expect(last?.headers["keywarden-size"]).toBe("3");
    expect(last?.headers["content-type"]).toBe("text/plain; charset=utf-8");
  });

  it("gives up after the attempts with a typed error; a 4xx other than 408/425/429 is not retried", async () => {
    plan = [503, 503, 503];
    const sink = httpCheckpointSink(url, { attempts: 3, backoffMs: 1 });
    await expect(
      sink.publish({ chainId: CHAIN, origin: "o", size: 1, note: "n" }),
    ).rejects.toSatisfy(
      (e) =>
        isKeywardenError(e, "ERR_AUDIT_STORE_UNAVAILABLE") &&
        (e as { details?: { status?: number } }).details?.status === 503,
    );
    plan = [400, 200];
    received = [];
    await expect(
      sink.publish({ chainId: CHAIN, origin: "o", size: 1, note: "n" }),
    ).rejects.toThrow();
    expect(received).toHaveLength(1);
  });

  it("never puts the sink's credentials (authorization header) into errors", async () => {
    plan = [503, 503];
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
    const sink = httpCheckpointSink(url, {
      attempts: 2,
      backoffMs: 1,
      headers: { authorization: `Bearer ${canary}` },
    });
    const err = await sink
      .publish({ chainId: CHAIN, origin: "o", size: 1, note: "n" })
      .catch((e: unknown) => e);
    expect(received[0]?.headers.authorization).toBe(`Bearer ${canary}`);
    const text = `${inspect(err, { depth: 10, showHidden: true })}${JSON.stringify(err)}${(err as Error).stack}${sink.name}`;
    expect(text).not.toContain(canary);
  });

  it("a failing sink never blocks or loses an append; the checkpoint is delivered on a later tick", async () => {
    const { store, log } = setup();
    const errors: PublishError[] = [];
    plan = [500, 500, 500, 500, 500, 500];
    const publisher = new CheckpointPublisher({
      log,
      sinks: [httpCheckpointSink(url, { attempts: 2, backoffMs: 1 })],
      everyEntries: 3,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 7; i++) {
      await appendEntries(store, log, CHAIN, 1, `a${i}`);
      publisher.onAppended({ chainId: CHAIN, size: i + 1 });
    }
    await publisher.flush();
    expect((await store.head(CHAIN)).size).toBe(7);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.stage.startsWith("http:"))).toBe(true);
    plan = [];
    received = [];
    await publisher.flush(); // the failed sink is retried with the newest checkpoint
    expect(received.map((r) => r.headers["keywarden-size"])).toEqual(["7"]);
    await publisher.stop();
  });
});

describe("CheckpointPublisher", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-publish-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("publishes every N entries to file and callback sinks", async () => {
    const { store, log } = setup();
    const seen: number[] = [];
    const publisher = new CheckpointPublisher({
      log,
      sinks: [
        fileCheckpointSink(dir),
        callbackCheckpointSink("cb", (cp) => void seen.push(cp.size)),
      ],
      everyEntries: 4,
    });
    for (let i = 0; i < 9; i++) {
      await appendEntries(store, log, CHAIN, 1, `p${i}`);
      publisher.onAppended({ chainId: CHAIN, size: i + 1 });
      await publisher.stop(); // waits for in-flight publications
    }
    expect(seen).toEqual([4, 8]);
    const file = await readFile(join(dir, "user%3A9.checkpoint"), "utf8");
    expect(file.split("\n")[1]).toBe("8");
  });

  it("publishes every T seconds from its timer", async () => {
    const { store, log } = setup();
    const seen: number[] = [];
    const publisher = new CheckpointPublisher({
      log,
      sinks: [callbackCheckpointSink("cb", (cp) => void seen.push(cp.size))],
      everySeconds: 0.05,
    });
    publisher.start();
    await appendEntries(store, log, CHAIN, 2);
    publisher.onAppended({ chainId: CHAIN, size: 2 });
    await new Promise((r) => setTimeout(r, 200));
    await publisher.stop();
    expect(seen).toContain(2);
  });

  it("re-signs a quiet chain once its last publication is older than refreshSeconds (frozen-log detection)", async () => {
    const { store, log } = setup();
    let ms = 1_000_000;
    const seen: number[] = [];
    const publisher = new CheckpointPublisher({
      log,
      sinks: [callbackCheckpointSink("cb", (cp) => void seen.push(cp.size))],
      refreshSeconds: 60,
      now: () => ms,
    });
    await appendEntries(store, log, CHAIN, 2);
    publisher.onAppended({ chainId: CHAIN, size: 2 });
    await publisher.flush();
    await publisher.flush(); // nothing new, not yet old: no publication
    expect(seen).toEqual([2]);
    ms += 61_000;
    await publisher.flush();
    expect(seen).toEqual([2, 2]);
    expect(() => new CheckpointPublisher({ log, refreshSeconds: 0 })).toThrow();
  });

  it("delivers to the user their latest checkpoint and a verifiable receipt per new entry", async () => {
    const { store, log, logKeys } = setup();
    const deliveries: UserDelivery[] = [];
    const publisher = new CheckpointPublisher({
      log,
      everyEntries: 1,
      deliverToUser: async (d) => void deliveries.push(d),
      maxReceiptsPerDelivery: 3,
    });
    const bodies = await appendEntries(store, log, CHAIN, 2);
    await publisher.publishNow(CHAIN);
    bodies.push(...(await appendEntries(store, log, CHAIN, 5, "z")));
    await publisher.publishNow(CHAIN);
    expect(
      deliveries.map((d) => [
        d.userId,
        d.checkpoint.size,
        d.receipts.map((r) => r.seq),
        d.receiptsOmitted,
      ]),
    ).toEqual([
      ["9", 2, [0, 1], 0],
      ["9", 7, [4, 5, 6], 2],
    ]);
    for (const d of deliveries) {
      for (const r of d.receipts) {
        const v = verifyReceipt(r.receipt, { logKeys, origin: log.origin(CHAIN) });
        expect(v.body).toBe(bodies[r.seq]);
        expect(v.checkpoint.note).toBe(d.checkpoint.note);
      }
    }
  });

  it("reports an inconsistent store to onError instead of signing", async () => {
    const { store, log } = setup();
    const errors: PublishError[] = [];
    const publisher = new CheckpointPublisher({
      log,
      everyEntries: 1,
      onError: (e) => errors.push(e),
    });
    await appendEntries(store, log, CHAIN, 4);
    await publisher.publishNow(CHAIN);
    store.chains.get(CHAIN)?.entries.splice(2);
    publisher.onAppended({ chainId: CHAIN, size: 5 });
    await publisher.stop();
    expect(
      errors.map((e) => [e.stage, isKeywardenError(e.error, "ERR_AUDIT_INCONSISTENT_CHECKPOINT")]),
    ).toEqual([["sign", true]]);
  });
});
