import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fixtureKey, writeFileStoreFixture } from "../../../bench/file-store-fixture.js";
import { ChainFiles, HandleCache, KeyTables } from "../../../src/audit/storage/file/index-files.js";
import { KEY_BATCH_MAX, KeyBatch } from "../../../src/audit/storage/file/key-batch.js";
import { openFileAuditStore } from "../../../src/audit/storage/file/store.js";
import { isKeywardenError } from "../../../src/errors.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-file-rebuild-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** The start slot bits of a key, computed here from the documented layout (SHA-256 bytes 8..11). */
const startOf = (key: string) => createHash("sha256").update(key, "utf8").digest().readUInt32BE(8);

async function keyFiles(root: string, chain: string, tables: number): Promise<Buffer[]> {
  const files = new ChainFiles(root, chain);
  return Promise.all(Array.from({ length: tables }, (_, j) => readFile(files.keys(j))));
}

describe("JSONL file store: the index rebuild streams", () => {
  it("a rebuild collects at most 32,768 idempotency keys before writing them", async () => {
    const path = join(dir, "audit.jsonl");
    const total = 70_000; // more than two batches of keys
    await writeFileStoreFixture(path, "user:rebuild", total);
    let most = 0;
    let pushes = 0;
    const push = KeyBatch.prototype.push;
    vi.spyOn(KeyBatch.prototype, "push").mockImplementation(function (this: KeyBatch, ...args) {
      pushes++;
      push.apply(this, args);
      most = Math.max(most, this.length);
    });
    const store = await openFileAuditStore(path);
    expect(pushes).toBe(total); // every key went through a bounded batch
    expect(most).toBe(32_768);
    for (const seq of [0, 32_767, 32_768, 65_536, total - 1])
      expect((await store.findByIdempotencyKey?.("user:rebuild", fixtureKey(seq)))?.seq).toBe(seq);
    await store.close();
  }, 120_000);

  it("keys written a window at a time land exactly where one-by-one inserts in slot order put them", async () => {
    // 2,040 keys in a 4,096-slot table: long probe runs, across window boundaries and the table's end.
    const keys = Array.from({ length: 2040 }, (_, i) => `key-${i}`);
    const bySlot = keys
      .map((key, seq) => ({ key, seq, slot: startOf(key) & 4095 }))
      .sort((a, b) => a.slot - b.slot || a.seq - b.seq);
    const one = join(dir, "one");
    const windowed = join(dir, "windowed");
    for (const [root, fill] of [
      [
        one,
        async (t: KeyTables) => {
          for (const k of bySlot) await t.insert(k.key, k.seq);
        },
      ],
      [
        windowed,
        async (t: KeyTables) => {
          for (const [seq, key] of keys.entries()) await t.insertLater(key, seq);
          await t.flushLater();
        },
      ],
    ] as const) {
      const files = new ChainFiles(root, "user:k");
      await mkdir(files.dir, { recursive: true });
      const handles = new HandleCache(8, false);
      const tables = new KeyTables(handles, files);
      await fill(tables);
      await tables.saveCounts();
      await handles.closeAll();
    }
    // A slot past the end of the file is empty: compare all 4,096 slots and the key count.
    const full = (b: Buffer | undefined) =>
      Buffer.concat([b as Buffer, Buffer.alloc(16 + 4096 * 16 - (b as Buffer).length)]);
    const [a] = await keyFiles(one, "user:k", 1);
    const [b] = await keyFiles(windowed, "user:k", 1);
    expect(full(b).readDoubleBE(0)).toBe(2040);
    expect(full(b)).toEqual(full(a));
  });

  it("a key batch holds at most KEY_BATCH_MAX keys.", () => {
    const batch = new KeyBatch();
    for (let i = 0; i < KEY_BATCH_MAX; i++) batch.push(i, i, i, i);
    let code: string | undefined;
    try {
      batch.push(1, 1, 1, 1);
    } catch (err) {
      code = isKeywardenError(err) ? err.code : String(err);
    }
    expect(code).toBe("ERR_AUDIT_STORE_INVARIANT");
    batch.clear();
    batch.push(7, 8, 9, 10);
    expect([batch.length, batch.hi(0), batch.lo(0), batch.start(0), batch.seq(0)]).toEqual([
      1, 7, 8, 9, 10,
    ]);
  });
});
