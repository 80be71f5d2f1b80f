import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ActionCatalog,
  AuditLog,
  type AuditStore,
  createMemoryAuditStore,
  OPERATOR_CHAIN_ID,
  userChainId,
} from "../../../src/audit/index.js";
import { isKeywardenError, KeywardenError } from "../../../src/errors.js";
import { hostIdentity, operatorIdentity, runAs } from "../../../src/guard/index.js";
import { Secret } from "../../../src/secret.js";

const CHAIN = userChainId("alice");
const alice = () => hostIdentity("alice");
const fired = { action: "killswitch.fired", payload: { scope: "all", reason: "drawdown" } };

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isKeywardenError(err) ? err.code : `non-keywarden: ${String(err)}`;
  }
}

describe("AuditLog.appendEntry: validation", () => {
  it("appends catalog actions with seq 0.. and the genesis link", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    const a = await runAs(alice(), () => log.appendEntry(CHAIN, fired));
    const b = await runAs(alice(), () =>
      log.appendEntry(CHAIN, {
        action: "order.placed",
        payload: {
          exchange: "binance",
          symbol: "BTC/USDT",
          side: "buy",
          type: "limit",
          amount: "0.5",
          price: "64250.10",
        },
      }),
    );
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(a.entry.prevHash).toBe("0".repeat(64));
    expect(b.entry.prevHash).toBe(a.hash);
    expect(a.entry.actor).toEqual({ kind: "host", userId: "alice", id: "host:alice" });
  });

  it("rejects unknown actions and actions of the other chain kind", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    expect(
      await codeOf(
        runAs(alice(), () => log.appendEntry(CHAIN, { action: "order.teleported", payload: {} })),
      ),
    ).toBe("ERR_AUDIT_UNKNOWN_ACTION");
    expect(
      await codeOf(
        runAs(alice(), () =>
          log.appendEntry(CHAIN, {
            action: "migration.applied",
            payload: { name: "x", version: "1" },
          }),
        ),
      ),
    ).toBe("ERR_AUDIT_UNKNOWN_ACTION");
  });

  it("rejects payloads that fail the action's schema, naming the field", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    const err = await runAs(alice(), () =>
      log.appendEntry(CHAIN, {
        action: "order.placed",
        payload: { exchange: "x", symbol: "y", side: "buy", type: "limit", amount: 0.5 },
      }),
    ).catch((e: unknown) => e);
    expect(isKeywardenError(err, "ERR_AUDIT_INVALID_ENTRY")).toBe(true);
    expect((err as Error).message).toContain("amount");
  });

  it("accepts host-defined actions with their own schema and refuses to redefine built-ins", async () => {
    const actions = new ActionCatalog({
      "bot.paused": { chain: "user", schema: z.strictObject({ botId: z.string() }) },
    });
    const log = new AuditLog({ store: createMemoryAuditStore(), actions });
    const e = await runAs(alice(), () =>
      log.appendEntry(CHAIN, { action: "bot.paused", payload: { botId: "b1" } }),
    );
    expect(e.entry.action).toBe("bot.paused");
    expect(
      await codeOf(
        runAs(alice(), () =>
          log.appendEntry(CHAIN, { action: "bot.paused", payload: { botId: 1 } }),
        ),
      ),
    ).toBe("ERR_AUDIT_INVALID_ENTRY");
    expect(() => new ActionCatalog({ "order.placed": { chain: "user", schema: z.any() } })).toThrow(
      KeywardenError,
    );
    expect(() => new ActionCatalog({ "Bad Name": { chain: "user", schema: z.any() } })).toThrow(
      KeywardenError,
    );
  });
});

describe("AuditLog.appendEntry: secrets", () => {
  const lenient = new ActionCatalog({
    "host.note": { chain: "user", schema: z.record(z.string(), z.unknown()) },
  });

  it.each([
    ["a Secret instance", (c: string) => ({ key: Secret.fromString(c) }), "$.key"],
    [
      "a nested Secret",
      (c: string) => ({ list: [{ deep: Secret.fromString(c) }] }),
      "$.list[0].deep",
    ],
    ["apiSecret", (c: string) => ({ apiSecret: c }), "$.apiSecret"],
    ["password", (c: string) => ({ nested: { password: c } }), "$.nested.password"],
    ["passphrase", (c: string) => ({ passphrase: c }), "$.passphrase"],
    ["private_key", (c: string) => ({ private_key: c }), "$.private_key"],
    ["token", (c: string) => ({ token: c }), "$.token"],
    [
      "a PEM private key value",
      (c: string) => ({ note: `-----BEGIN PRIVATE KEY-----\n${c}\n-----END PRIVATE KEY-----` }),
      "$.note",
    ],
  ])(
    "an audit payload never contains a Secret or a credential field: %s",
    async (_name, make, path) => {
      const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
      const store = createMemoryAuditStore();
      const log = new AuditLog({ store, actions: lenient });
      const err = await runAs(alice(), () =>
        log.appendEntry(CHAIN, { action: "host.note", payload: make(canary) }),
      ).catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_AUDIT_SECRET_IN_PAYLOAD")).toBe(true);
      const e = err as KeywardenError;
      expect(e.details).toEqual({ path });
      expect(e.message).toContain(`(at ${path})`);
      for (const text of [
        e.message,
        e.stack ?? "",
        JSON.stringify(e),
        inspect(e, { depth: 10, showHidden: true }),
        String(e.cause ?? ""),
      ])
        expect(text).not.toContain(canary);
      expect((await store.head(CHAIN)).size).toBe(0);
    },
  );

  it("refuses exactly the credential-looking names docs/audit-format.md lists", async () => {
    const doc = await readFile(new URL("../../../docs/audit-format.md", import.meta.url), "utf8");
    const rule = /A\s+member name is credential-looking when([\s\S]*?)The rule looks/.exec(
      doc,
    )?.[1];
    const [exact = "", parts = ""] = (rule ?? "").split("or contains");
    const names = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    // (The paragraph also quotes the separators `_`, `-` and `.`: one character, not names.)
    const listed = [...names(exact).filter((n) => n.length > 1), ...names(parts)];
    expect(listed.length).toBe(19);
    const log = new AuditLog({ store: createMemoryAuditStore(), actions: lenient });
    const append = (payload: unknown) =>
      runAs(alice(), () => log.appendEntry(CHAIN, { action: "host.note", payload }));
    // Matched after lowercasing and dropping `_`, `-`, `.` and spaces; the parts anywhere.
    const variant = (name: string, i: number) =>
      i < 13 ? `${name[0]}_${name.slice(1)}`.toUpperCase() : `My-${name.toUpperCase()}.v2`;
    for (const [i, name] of listed.entries()) {
      expect(await codeOf(append({ [name]: 1 })), name).toBe("ERR_AUDIT_SECRET_IN_PAYLOAD");
      expect(await codeOf(append({ [variant(name, i)]: 1 })), name).toBe(
        "ERR_AUDIT_SECRET_IN_PAYLOAD",
      );
    }
    for (const name of ["credentialCount", "sampleSeedId", "tokenizer"])
      expect((await append({ [name]: 1 })).seq, name).toBeGreaterThanOrEqual(0);
  });

  it("rejects secrets even in built-in actions' free-form fields", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    expect(
      await codeOf(
        runAs(alice(), () =>
          log.appendEntry(CHAIN, {
            action: "parameter.changed",
            payload: { name: "x", to: { apiKey: "k" } },
          }),
        ),
      ),
    ).toBe("ERR_AUDIT_SECRET_IN_PAYLOAD");
  });
});

describe("AuditLog.appendEntry: identities", () => {
  it("requires an identity", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    expect(await codeOf(log.appendEntry(CHAIN, fired))).toBe("ERR_GUARD_UNAUTHENTICATED");
  });

  it("only an operator identity may append to the operator chain", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    const migration = { action: "migration.applied", payload: { name: "audit", version: "1" } };
    expect(await codeOf(runAs(alice(), () => log.appendEntry(OPERATOR_CHAIN_ID, migration)))).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
    const e = await runAs(operatorIdentity("ops-1"), () =>
      log.recordOperatorAction(migration.action, migration.payload),
    );
    expect(e.entry.actor).toEqual({ kind: "operator", userId: "ops-1", id: "operator:ops-1" });
  });

  it("a user chain records only that user's identities or an operator's", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    expect(await codeOf(runAs(hostIdentity("mallory"), () => log.appendEntry(CHAIN, fired)))).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
    const byOps = await runAs(operatorIdentity("ops-1"), () => log.appendEntry(CHAIN, fired));
    expect(byOps.entry.actor.kind).toBe("operator");
  });

  it("refuses a forged identity object", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    const forged = {
      kind: "host",
      userId: "alice",
      id: "x",
      expiresAt: undefined,
      token: undefined,
      scope: undefined,
    };
    expect(await codeOf(log.appendEntry(CHAIN, { ...fired, actor: forged as never }))).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
  });
});

describe("AuditLog: concurrency", () => {
  it("never forks or gaps a chain under 300 concurrent callers on three logs", async () => {
    const store = createMemoryAuditStore();
    const logs = [0, 1, 2].map(() => new AuditLog({ store }));
    const done = await runAs(alice(), () =>
      Promise.all(
        Array.from({ length: 300 }, (_, i) => (logs[i % 3] as AuditLog).appendEntry(CHAIN, fired)),
      ),
    );
    expect(new Set(done.map((e) => e.seq)).size).toBe(300);
    const r = await logs[0]?.verifyChain(CHAIN);
    expect(r).toMatchObject({ ok: true, size: 300 });
  });

  it("retries a lost race up to maxAttempts, then throws ERR_AUDIT_APPEND_CONTENDED", async () => {
    const inner = createMemoryAuditStore();
    let attempts = 0;
    const alwaysLoses: AuditStore = {
      ...inner,
      async append() {
        attempts++;
        throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "lost");
      },
    };
    const log = new AuditLog({ store: alwaysLoses, maxAttempts: 5 });
    expect(await codeOf(runAs(alice(), () => log.appendEntry(CHAIN, fired)))).toBe(
      "ERR_AUDIT_APPEND_CONTENDED",
    );
    expect(attempts).toBe(5);
  });

  it("recovers transparently when another writer wins once", async () => {
    const inner = createMemoryAuditStore();
    let first = true;
    const racy: AuditStore = {
      ...inner,
      async append(req) {
        if (first) {
          first = false;
          await runAs(alice(), () => new AuditLog({ store: inner }).appendEntry(CHAIN, fired)); // the rival commits first
        }
        return inner.append(req);
      },
    };
    const e = await runAs(alice(), () => new AuditLog({ store: racy }).appendEntry(CHAIN, fired));
    expect(e.seq).toBe(1);
    expect(await new AuditLog({ store: inner }).verifyChain(CHAIN)).toMatchObject({
      ok: true,
      size: 2,
    });
  });
});

describe("AuditLog.head: a head read from the store is where the next append starts", () => {
  /** A store that counts the appends it refused as lost races. */
  function counting() {
    const inner = createMemoryAuditStore();
    const counts = { conflicts: 0 };
    const store: AuditStore = {
      ...inner,
      async append(req) {
        try {
          return await inner.append(req);
        } catch (err) {
          if (isKeywardenError(err) && err.code === "ERR_AUDIT_APPEND_CONFLICT") counts.conflicts++;
          throw err;
        }
      },
    };
    return { store, counts };
  }

  it("after another writer appended, head() lets the next append commit at its first attempt", async () => {
    const { store, counts } = counting();
    const mine = new AuditLog({ store });
    const rival = new AuditLog({ store });
    await runAs(alice(), async () => {
      await mine.appendEntry(CHAIN, fired);
      await rival.appendEntry(CHAIN, fired);
      await rival.appendEntry(CHAIN, fired);
      expect(await mine.head(CHAIN)).toMatchObject({ size: 3 });
      expect((await mine.appendEntry(CHAIN, fired)).seq).toBe(3);
    });
    expect(counts.conflicts).toBe(0);
    expect(await mine.verifyChain(CHAIN)).toMatchObject({ ok: true, size: 4 });
  });

  it("without head(), the stale first attempt is the one lost race it costs", async () => {
    const { store, counts } = counting();
    const mine = new AuditLog({ store });
    const rival = new AuditLog({ store });
    await runAs(alice(), async () => {
      await mine.appendEntry(CHAIN, fired);
      await rival.appendEntry(CHAIN, fired);
      expect((await mine.appendEntry(CHAIN, fired)).seq).toBe(2);
    });
    expect(counts.conflicts).toBe(1);
  });

  it("a head read before this log's own later commits is not built on", async () => {
    const { store, counts } = counting();
    const mine = new AuditLog({ store });
    await runAs(alice(), async () => {
      await mine.appendEntry(CHAIN, fired);
      expect(await mine.head(CHAIN)).toMatchObject({ size: 1 });
      await mine.appendEntry(CHAIN, fired);
      await mine.appendEntry(CHAIN, fired);
    });
    expect(counts.conflicts).toBe(0);
    expect(await mine.verifyChain(CHAIN)).toMatchObject({ ok: true, size: 3 });
  });
});

describe("AuditLog: a buggy store is caught, not trusted", () => {
  it("the store reports exactly the size and head hash that were appended", async () => {
    const inner = createMemoryAuditStore();
    const liar: AuditStore = {
      ...inner,
      append: async (req) => ({ ...(await inner.append(req)), size: 7 }),
    };
    expect(
      await codeOf(runAs(alice(), () => new AuditLog({ store: liar }).appendEntry(CHAIN, fired))),
    ).toBe("ERR_AUDIT_STORE_INVARIANT");
  });

  it("a head has a safe non-negative size, and a hash exactly when it is non-empty", async () => {
    const inner = createMemoryAuditStore();
    const liar: AuditStore = {
      ...inner,
      head: async () => ({ size: 0, headHash: "00".repeat(32) }),
    };
    expect(
      await codeOf(runAs(alice(), () => new AuditLog({ store: liar }).appendEntry(CHAIN, fired))),
    ).toBe("ERR_AUDIT_STORE_INVARIANT");
  });

  it("a chain never shrinks or changes its head behind the core's back", async () => {
    const inner = createMemoryAuditStore();
    let lie = false;
    const liar: AuditStore = {
      ...inner,
      head: async (c) => (lie ? { size: 0, headHash: null } : inner.head(c)),
    };
    const log = new AuditLog({ store: liar });
    await runAs(alice(), () => log.appendEntry(CHAIN, fired));
    lie = true;
    expect(await codeOf(log.head(CHAIN))).toBe("ERR_AUDIT_STORE_INVARIANT");
  });

  it("reads return the requested seqs, contiguous and in order, and nothing beyond", async () => {
    const inner = createMemoryAuditStore();
    const log = new AuditLog({ store: inner });
    await runAs(alice(), () => log.appendEntries(CHAIN, [fired, fired, fired]));
    const repeats: AuditStore = {
      ...inner,
      read: async function* (c, from, to) {
        for await (const e of inner.read(c, from, to)) {
          yield e;
          if (e.seq === 1) yield e;
        }
      },
    };
    const read = async () => {
      for await (const _ of new AuditLog({ store: repeats }).readEntries(CHAIN)) void _;
    };
    expect(await codeOf(read())).toBe("ERR_AUDIT_STORE_INVARIANT");
  });

  it("reports a store that lost its tail as truncated against the last committed head", async () => {
    const inner = createMemoryAuditStore();
    const log = new AuditLog({ store: inner });
    await runAs(alice(), () => log.appendEntries(CHAIN, [fired, fired, fired]));
    const expected = await log.head(CHAIN);
    const shorter: AuditStore = {
      ...inner,
      head: async (c) => {
        let last: string | null = null;
        for await (const e of inner.read(c, 0, 2)) last = e.hash;
        return { size: 2, headHash: last };
      },
      read: (c, from, to) => inner.read(c, from, Math.min(to ?? 2, 2)),
    };
    expect(await new AuditLog({ store: shorter }).verifyChain(CHAIN, expected)).toMatchObject({
      ok: false,
      seq: 2,
      reason: "truncated",
    });
  });

  it("keeps an append committed when the onAppended listener throws", async () => {
    const store = createMemoryAuditStore();
    const log = new AuditLog({
      store,
      onAppended: () => {
        throw new Error("listener bug");
      },
    });
    await runAs(alice(), () => log.appendEntry(CHAIN, fired));
    expect((await store.head(CHAIN)).size).toBe(1);
  });
});

describe("AuditLog: idempotency and erasure", () => {
  it("returns the original entry for a retried idempotency key", async () => {
    const store = createMemoryAuditStore();
    const log = new AuditLog({ store });
    const [a, b] = await runAs(alice(), () =>
      Promise.all([
        log.appendEntry(CHAIN, { ...fired, idempotencyKey: "k1" }),
        log.appendEntry(CHAIN, { ...fired, idempotencyKey: "k1" }),
      ]),
    );
    expect(a?.hash).toBe(b?.hash);
    expect((await store.head(CHAIN)).size).toBe(1);
  });

  it("erases a payload; the chain verifies as redacted", async () => {
    const store = createMemoryAuditStore();
    const log = new AuditLog({ store });
    await runAs(alice(), () => log.appendEntries(CHAIN, [fired, fired]));
    await log.erasePayload(CHAIN, 0);
    expect(await log.verifyChain(CHAIN)).toMatchObject({ ok: true, size: 2, redacted: 1 });
  });
});
