/**
 * Commands that only read (export, verify, prove) open their store through
 * `readOnlyAuditStore`: every write the store offers is refused on the view, reads pass through,
 * and an AuditLog over the view cannot append.
 */
import { describe, expect, it } from "vitest";
import { AuditLog, userChainId } from "../../src/audit/core/index.js";
import { type AuditStore, createMemoryAuditStore } from "../../src/audit/storage/index.js";
import { readOnlyAuditStore } from "../../src/cli/store-open.js";
import { isKeywardenError } from "../../src/errors.js";
import { hostIdentity, runAs } from "../../src/guard/index.js";

const CHAIN = userChainId("alice");
const READS = new Set(["head", "read", "findByIdempotencyKey", "getTreeNodes", "latestCheckpoint"]);
const entry = { action: "parameter.changed", payload: { name: "x", to: 1 } };

async function all(store: AuditStore) {
  const out = [];
  for await (const e of store.read(CHAIN, 0)) out.push(e);
  return out;
}

describe("read-only store view", () => {
  it("a command that only reads cannot write through the store it opened", async () => {
    const store = createMemoryAuditStore();
    await runAs(hostIdentity("alice"), () => new AuditLog({ store }).appendEntry(CHAIN, entry));
    const before = { head: await store.head(CHAIN), entries: await all(store) };
    const view = readOnlyAuditStore(store);
    // Every method the store has is either a read or refused on the view.
    const methods = Object.keys(store).filter(
      (k) => typeof (store as unknown as Record<string, unknown>)[k] === "function",
    );
    expect(methods.length).toBeGreaterThan(4);
    const refused = (p: unknown) =>
      Promise.resolve(p).then(
        () => false,
        (e: unknown) => isKeywardenError(e, "ERR_NOT_SUPPORTED"),
      );
    const args: Record<string, unknown[]> = {
      append: [{ chainId: CHAIN, expectedSize: 1, entries: [] }],
      erasePayload: [CHAIN, 0],
      putCheckpoint: [CHAIN, { size: 1, rootHash: "00".repeat(32), note: "x" }],
    };
    for (const m of methods.filter((k) => !READS.has(k))) {
      const fn = (view as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>)[m];
      if (fn === undefined) continue; // not offered at all: nothing to write through
      expect(await refused(fn(...(args[m] ?? [CHAIN]))), m).toBe(true);
    }
    // An AuditLog over the view cannot append; reads still work and nothing changed.
    const err = await runAs(hostIdentity("alice"), () =>
      new AuditLog({ store: view }).appendEntry(CHAIN, entry),
    ).catch((e: unknown) => e);
    expect(isKeywardenError(err, "ERR_NOT_SUPPORTED")).toBe(true);
    expect(await view.head(CHAIN)).toEqual(before.head);
    expect(await all(view)).toEqual(before.entries);
    expect({ head: await store.head(CHAIN), entries: await all(store) }).toEqual(before);
  });
});
