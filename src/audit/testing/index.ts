/**
 * `keywarden/audit/testing`: the conformance suite for {@link AuditStore} adapters. Pass your test
 * framework's `describe`/`it` and a factory for your adapter; the full battery is registered
 * (append/read/ranges, conflicts, concurrent appends, reopen and persistence, erasure, the optional
 * capabilities, tamper visibility). The library does not import any test framework itself.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { runAuditStoreConformance } from "keywarden/audit/testing";
 * runAuditStoreConformance("my-pg-store", { create: () => createMyStore() }, { describe, it });
 * ```
 *
 * @packageDocumentation
 */
import { isKeywardenError, type KeywardenErrorCode } from "../../errors.js";
import { hostIdentity } from "../../guard/identity.js";
import { AuditLog } from "../core/index.js";
import { GENESIS_PREV_HASH, userChainId } from "../core/portable.js";
import type { AuditStore, StoredEntry } from "../storage/index.js";
import { fixtureEntries } from "./fixtures.js";

/** The two functions of a vitest/jest/mocha-style runner the suite needs. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
}

/** How the suite gets stores. */
export interface AuditStoreFactory {
  /** A fresh, empty store (its own file, schema or table prefix). */
  create(): Promise<AuditStore>;
  /**
   * Closes `store` and opens the same storage again. Enables the reopen/persistence tests.
   */
  reopen?(store: AuditStore): Promise<AuditStore>;
  /**
   * Changes the stored `body` of entry `seq` behind the store's back (SQL UPDATE, file edit), the
   * way a malicious database user would. Enables the tamper-visibility test on real storage.
   */
  tamperBody?(store: AuditStore, chainId: string, seq: number, body: string): Promise<void>;
  /** Disposes of a store after a test (default: `store.close?.()`). */
  dispose?(store: AuditStore): Promise<void>;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`conformance: ${message}`);
}

async function rejectsWith(
  p: Promise<unknown>,
  code: KeywardenErrorCode,
  what: string,
): Promise<void> {
  try {
    await p;
  } catch (err) {
    check(
      isKeywardenError(err, code),
      `${what}: expected ${code}, got ${(err as { code?: string })?.code ?? String(err)}`,
    );
    return;
  }
  throw new Error(`conformance: ${what}: expected ${code}, but it succeeded`);
}

async function collect(it: AsyncIterable<StoredEntry>): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const CHAIN = userChainId("conformance-user");
const OTHER = userChainId("conformance-other");

/**
 * Registers the conformance battery for one adapter.
 *
 * @throws never at registration; each test throws plain `Error`s describing the violation.
 *
 * @example
 * ```ts
 * runAuditStoreConformance("sqlite", { create: () => openMyStore(tmpFile()) }, { describe, it });
 * ```
 */
export function runAuditStoreConformance(
  name: string,
  factory: AuditStoreFactory,
  runner: ConformanceRunner,
): void {
  const { describe, it } = runner;
  const withStore = async (
    fn: (store: AuditStore) => Promise<AuditStore | undefined>,
  ): Promise<void> => {
    let store = await factory.create();
    try {
      store = (await fn(store)) ?? store;
    } finally {
      await (factory.dispose ? factory.dispose(store) : store.close?.());
    }
  };
  const actor = () => hostIdentity("conformance-user");
  const append = (log: AuditLog, i: number, chainId = CHAIN) =>
    log.appendEntry(chainId, {
      action: "parameter.changed",
      payload: { name: `p${i}`, to: { value: i, note: "ünïcødé ✓ \u2028" } },
      actor: chainId === CHAIN ? actor() : hostIdentity("conformance-other"),
    });

  describe(`AuditStore conformance: ${name}`, () => {
    it("declares its capabilities", async () => {
      await withStore(async (store) => {
        const c = store.capabilities;
        check(
          c &&
            typeof c.idempotency === "boolean" &&
            typeof c.treeNodes === "boolean" &&
            typeof c.checkpoints === "boolean",
          "capabilities must declare three booleans",
        );
        if (c.idempotency)
          check(
            typeof store.findByIdempotencyKey === "function",
            "idempotency needs findByIdempotencyKey",
          );
        if (c.treeNodes)
          check(typeof store.getTreeNodes === "function", "treeNodes needs getTreeNodes");
        if (c.checkpoints)
          check(
            typeof store.putCheckpoint === "function" &&
              typeof store.latestCheckpoint === "function",
            "checkpoints needs put/latest",
          );
        return undefined;
      });
    });

    it("an unknown chain is empty", async () => {
      await withStore(async (store) => {
        const h = await store.head(CHAIN);
        check(
          h.size === 0 && h.headHash === null,
          "head of an unknown chain must be { size: 0, headHash: null }",
        );
        check(
          (await collect(store.read(CHAIN, 0))).length === 0,
          "read of an unknown chain must yield nothing",
        );
        return undefined;
      });
    });

    it("returns entries byte-exact, in order, with the head of the last append", async () => {
      await withStore(async (store) => {
        const entries = fixtureEntries(CHAIN, 0, 5);
        const r = await store.append({ chainId: CHAIN, expectedSize: 0, entries });
        check(
          r.size === 5 && r.headHash === entries[4]?.hash,
          "append must return the new size and head",
        );
        const h = await store.head(CHAIN);
        check(h.size === 5 && h.headHash === entries[4]?.hash, "head must reflect the append");
        const back = await collect(store.read(CHAIN, 0));
        check(back.length === 5, "read must return every entry");
        for (const [i, e] of back.entries()) {
          const w = entries[i] as StoredEntry;
          check(
            e.seq === i && e.hash === w.hash && e.body === w.body && e.payload === w.payload,
            `entry ${i} must read back byte-exact`,
          );
        }
        return undefined;
      });
    });

    it("reads ranges [from, to) and stops at the end", async () => {
      await withStore(async (store) => {
        await store.append({
          chainId: CHAIN,
          expectedSize: 0,
          entries: fixtureEntries(CHAIN, 0, 4),
        });
        await store.append({
          chainId: CHAIN,
          expectedSize: 4,
          entries: fixtureEntries(
            CHAIN,
            4,
            6,
            (await store.head(CHAIN)).headHash ?? GENESIS_PREV_HASH,
          ),
        });
        const seqs = async (from: number, to?: number) =>
          (await collect(store.read(CHAIN, from, to))).map((e) => e.seq).join(",");
        check((await seqs(2, 7)) === "2,3,4,5,6", "read(2, 7) must yield seqs 2..6 across batches");
        check((await seqs(8)) === "8,9", "read(8) must yield to the end");
        check((await seqs(9, 100)) === "9", "read past the end must stop");
        check((await seqs(10)) === "", "read at the end must yield nothing");
        check((await seqs(3, 3)) === "", "an empty range must yield nothing");
        return undefined;
      });
    });

    it("rejects an append with a stale expected size as a conflict and writes nothing", async () => {
      await withStore(async (store) => {
        const first = fixtureEntries(CHAIN, 0, 3);
        await store.append({ chainId: CHAIN, expectedSize: 0, entries: first });
        await rejectsWith(
          store.append({ chainId: CHAIN, expectedSize: 0, entries: fixtureEntries(CHAIN, 0, 2) }),
          "ERR_AUDIT_APPEND_CONFLICT",
          "stale expectedSize",
        );
        await rejectsWith(
          store.append({ chainId: CHAIN, expectedSize: 5, entries: fixtureEntries(CHAIN, 5, 1) }),
          "ERR_AUDIT_APPEND_CONFLICT",
          "expectedSize ahead of the chain",
        );
        const h = await store.head(CHAIN);
        check(
          h.size === 3 && h.headHash === first[2]?.hash,
          "a rejected append must not change the chain",
        );
        return undefined;
      });
    });

    it("lets exactly one of two racing appends at the same size win", async () => {
      await withStore(async (store) => {
        const a = fixtureEntries(CHAIN, 0, 2, GENESIS_PREV_HASH, "a");
        const b = fixtureEntries(CHAIN, 0, 3, GENESIS_PREV_HASH, "b");
        const results = await Promise.allSettled([
          store.append({ chainId: CHAIN, expectedSize: 0, entries: a }),
          store.append({ chainId: CHAIN, expectedSize: 0, entries: b }),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        check(won.length === 1, "exactly one racing append must succeed");
        const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        check(
          isKeywardenError(lost.reason, "ERR_AUDIT_APPEND_CONFLICT"),
          "the loser must get ERR_AUDIT_APPEND_CONFLICT",
        );
        const h = await store.head(CHAIN);
        const winner = h.size === 2 ? a : b;
        check(
          h.headHash === winner[winner.length - 1]?.hash,
          "the chain must hold exactly the winner's batch",
        );
        return undefined;
      });
    });

    it("keeps many concurrent writers (two logs, 60 appends) free of forks and gaps", async () => {
      await withStore(async (store) => {
        const logs = [new AuditLog({ store }), new AuditLog({ store })];
        const appended = await Promise.all(
          Array.from({ length: 60 }, (_, i) => append(logs[i % 2] as AuditLog, i)),
        );
        const seqs = new Set(appended.map((e) => e.seq));
        check(seqs.size === 60, "every append must get its own seq");
        const result = await new AuditLog({ store }).verifyChain(CHAIN);
        check(
          result.ok && result.size === 60,
          `the chain must verify with 60 entries (${result.ok ? result.size : result.reason})`,
        );
        return undefined;
      });
    }, 60_000);

    it("keeps chains independent", async () => {
      await withStore(async (store) => {
        const log = new AuditLog({ store });
        await append(log, 0);
        await append(log, 1, OTHER);
        await append(log, 2);
        check(
          (await store.head(CHAIN)).size === 2 && (await store.head(OTHER)).size === 1,
          "each chain must count its own entries",
        );
        const r = await log.verifyChain(OTHER);
        check(r.ok && r.chainId === OTHER, "the other chain must verify on its own");
        return undefined;
      });
    });

    it("erases a payload without touching the chain", async () => {
      await withStore(async (store) => {
        const log = new AuditLog({ store });
        for (let i = 0; i < 3; i++) await append(log, i);
        const before = await collect(store.read(CHAIN, 1, 2));
        await store.erasePayload(CHAIN, 1);
        await store.erasePayload(CHAIN, 1); // idempotent
        const after = await collect(store.read(CHAIN, 0));
        check(after[1]?.payload === null, "an erased payload must read as null");
        check(
          after[1]?.body === before[0]?.body && after[1]?.hash === before[0]?.hash,
          "erasure must keep body and hash",
        );
        check(
          after[0]?.payload !== null && after[2]?.payload !== null,
          "erasure must touch only its entry",
        );
        const r = await log.verifyChain(CHAIN);
        check(r.ok && r.redacted === 1, "the chain must still verify, with one redacted entry");
        await rejectsWith(
          store.erasePayload(CHAIN, 3),
          "ERR_INVALID_ARGUMENT",
          "erasing a missing entry",
        );
        return undefined;
      });
    });

    it("makes a retried append with the same idempotency key return the original entry", async () => {
      await withStore(async (store) => {
        if (!store.capabilities.idempotency) return undefined;
        const log = new AuditLog({ store });
        const input = {
          action: "killswitch.fired",
          payload: { scope: "all", reason: "test" },
          actor: actor(),
          idempotencyKey: "req-123",
        };
        const a = await log.appendEntry(CHAIN, input);
        const b = await new AuditLog({ store }).appendEntry(CHAIN, input);
        check(a.seq === b.seq && a.hash === b.hash, "the retry must return the original entry");
        check((await store.head(CHAIN)).size === 1, "the retry must not write a second entry");
        const head = await store.head(CHAIN);
        const dup = fixtureEntries(CHAIN, 1, 1, head.headHash ?? GENESIS_PREV_HASH).map((e) => ({
          ...e,
          idempotencyKey: "req-123",
        }));
        await rejectsWith(
          store.append({ chainId: CHAIN, expectedSize: 1, entries: dup }),
          "ERR_AUDIT_APPEND_CONFLICT",
          "a reused idempotency key",
        );
        const found = await store.findByIdempotencyKey?.(CHAIN, "req-123");
        check(
          found?.seq === 0 && found.hash === a.hash,
          "findByIdempotencyKey must return the original entry",
        );
        check(
          (await store.findByIdempotencyKey?.(CHAIN, "never-used")) === undefined,
          "an unused key must be undefined",
        );
        return undefined;
      });
    });

    it("stores Merkle tree nodes atomically with the append", async () => {
      await withStore(async (store) => {
        if (!store.capabilities.treeNodes) return undefined;
        const node = (level: number, index: number) => ({
          level,
          index,
          hash: new Uint8Array(32).fill(level * 16 + index + 1),
        });
        await store.append({
          chainId: CHAIN,
          expectedSize: 0,
          entries: fixtureEntries(CHAIN, 0, 2),
          treeNodes: [node(0, 0), node(0, 1), node(1, 0)],
        });
        await rejectsWith(
          store.append({
            chainId: CHAIN,
            expectedSize: 0,
            entries: fixtureEntries(CHAIN, 0, 1),
            treeNodes: [node(2, 0)],
          }),
          "ERR_AUDIT_APPEND_CONFLICT",
          "conflicting append with nodes",
        );
        const got =
          (await store.getTreeNodes?.(CHAIN, [
            { level: 1, index: 0 },
            { level: 2, index: 0 },
            { level: 0, index: 1 },
          ])) ?? [];
        check(
          got.length === 3 && got[0]?.[0] === 17 && got[0].length === 32 && got[2]?.[0] === 2,
          "stored nodes must read back",
        );
        check(got[1] === undefined, "nodes of a rejected append must not be stored");
        return undefined;
      });
    });

    it("keeps the checkpoint with the greatest size", async () => {
      await withStore(async (store) => {
        if (!store.capabilities.checkpoints) return undefined;
        check((await store.latestCheckpoint?.(CHAIN)) === undefined, "no checkpoint at first");
        await store.putCheckpoint?.(CHAIN, { size: 2, note: "two\n" });
        await store.putCheckpoint?.(CHAIN, { size: 5, note: "five\n" });
        await store.putCheckpoint?.(CHAIN, { size: 3, note: "three\n" });
        const cp = await store.latestCheckpoint?.(CHAIN);
        check(
          cp?.size === 5 && cp.note === "five\n",
          "latestCheckpoint must return the greatest size",
        );
        check((await store.latestCheckpoint?.(OTHER)) === undefined, "checkpoints are per chain");
        return undefined;
      });
    });

    it("persists entries, erasures, keys and checkpoints across reopen", async () => {
      await withStore(async (first) => {
        if (!factory.reopen) return undefined;
        const log = new AuditLog({ store: first });
        for (let i = 0; i < 4; i++) await append(log, i);
        await first.erasePayload(CHAIN, 2);
        const head = await first.head(CHAIN);
        const store = await factory.reopen(first);
        const again = await store.head(CHAIN);
        check(
          again.size === head.size && again.headHash === head.headHash,
          "head must survive reopen",
        );
        const r = await new AuditLog({ store }).verifyChain(CHAIN, head);
        check(r.ok && r.redacted === 1, "the chain must verify after reopen with the erasure kept");
        await append(new AuditLog({ store }), 4);
        check((await store.head(CHAIN)).size === 5, "appends must continue after reopen");
        return store;
      });
    });

    it("makes tampering with stored data visible to verify, at the exact seq", async () => {
      await withStore(async (store) => {
        const log = new AuditLog({ store });
        for (let i = 0; i < 5; i++) await append(log, i);
        if (factory.tamperBody) {
          const [victim] = await collect(store.read(CHAIN, 2, 3));
          await factory.tamperBody(
            store,
            CHAIN,
            2,
            (victim as StoredEntry).body.replace('"id":"host:', '"id":"hosT:'),
          );
          const r = await new AuditLog({ store }).verifyChain(CHAIN);
          check(
            !r.ok && r.seq === 2,
            `tampered entry 2 must be reported at seq 2 (${r.ok ? "valid" : `${r.seq} ${r.reason}`})`,
          );
        }
        // Whatever the storage, a store that hides an entry is caught by the core.
        // Delegate explicitly: adapters are often classes, whose methods a spread would not copy.
        const hiding: AuditStore = {
          capabilities: store.capabilities,
          head: (c) => store.head(c),
          append: (request) => store.append(request),
          erasePayload: (c, seq) => store.erasePayload(c, seq),
          read: async function* (c, from, to) {
            for await (const e of store.read(c, from, to)) if (e.seq !== 1) yield e;
          },
        };
        await rejectsWith(
          collect(new AuditLog({ store: hiding }).readEntries(CHAIN)),
          "ERR_AUDIT_STORE_INVARIANT",
          "a store that skips an entry",
        );
        const r = await new AuditLog({ store: hiding }).verifyChain(CHAIN);
        check(
          !r.ok && r.seq === 1 && r.reason === "gap",
          "verify must report the hidden entry as a gap at seq 1",
        );
        return undefined;
      });
    });
  });
}

export { fixtureEntries } from "./fixtures.js";
