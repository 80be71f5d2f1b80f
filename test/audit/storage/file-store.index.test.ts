import { spawn } from "node:child_process";
import { once } from "node:events";
import { cp, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixtureKey, writeFileStoreFixture } from "../../../bench/file-store-fixture.js";
import { chainFolder } from "../../../src/audit/storage/file/index-files.js";
import { openFileAuditStore } from "../../../src/audit/storage/file/store.js";
import type { AuditStore, StoredEntry, TreeNodeKey } from "../../../src/audit/storage/index.js";
import { fixtureEntries } from "../../../src/audit/testing/fixtures.js";
import { storeNodeReader } from "../../../src/audit/transparency/log.js";
import {
  consistencyProof,
  inclusionProof,
  MerkleFrontier,
  merkleRoot,
  rootAtSize,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/audit/transparency/merkle.js";
import { isKeywardenError } from "../../../src/errors.js";

const CHAIN = "user:index";
let dir = "";
let path = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-file-index-"));
  path = join(dir, "audit.jsonl");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function all(store: AuditStore, chainId: string): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const e of store.read(chainId, 0)) out.push(e);
  return out;
}

/** Every complete node key of a tree of `size` leaves. */
function nodeKeys(size: number): TreeNodeKey[] {
  const keys: TreeNodeKey[] = [];
  for (let level = 0; 2 ** level <= size; level++)
    for (let index = 0; (index + 1) * 2 ** level <= size; index++) keys.push({ level, index });
  return keys;
}

/** Appends `n` entries of `chainId` in batches of `batch`, with keys and the tree nodes. */
async function appendFixtures(store: AuditStore, chainId: string, n: number, batch = 1) {
  const frontier = new MerkleFrontier();
  const entries = fixtureEntries(chainId, 0, n);
  for (let first = 0; first < n; first += batch) {
    const part = entries
      .slice(first, first + batch)
      .map((e) => ({ ...e, idempotencyKey: fixtureKey(e.seq) }));
    const treeNodes = part.flatMap((e) => frontier.append(Buffer.from(e.hash, "hex")));
    await store.append({ chainId, expectedSize: first, entries: part, treeNodes });
  }
  return entries;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isKeywardenError(err) ? err.code : String(err);
  }
}

describe("JSONL file store: the on-disk index", () => {
  it("the bulk fixture writer produces the same bytes as one-entry appends", async () => {
    const store = await openFileAuditStore(path);
    await appendFixtures(store, CHAIN, 300);
    await store.close();
    const bulk = join(dir, "bulk.jsonl");
    await writeFileStoreFixture(bulk, CHAIN, 300);
    expect(await readFile(bulk)).toEqual(await readFile(path));
    expect(await readFile(`${bulk}.payloads`)).toEqual(await readFile(`${path}.payloads`));
  });

  it("opens a store written before the index existed (a committed fixture of the previous version) and builds the index", async () => {
    const from = new URL("./fixtures/pre-index-file-store/", import.meta.url).pathname;
    await cp(join(from, "audit.jsonl"), path);
    await cp(join(from, "audit.jsonl.payloads"), `${path}.payloads`);
    const original = await readFile(path);
    const store = await openFileAuditStore(path);
    for (const [chainId, n] of [
      ["user:old-a", 300],
      ["user:old-b", 7],
    ] as const) {
      const expected = fixtureEntries(chainId, 0, n, undefined, "old");
      expect(await store.head(chainId)).toEqual({
        size: n,
        headHash: expected[n - 1]?.hash,
      });
      const got = await all(store, chainId);
      expect(got.map((e) => [e.seq, e.hash, e.body, e.idempotencyKey])).toEqual(
        expected.map((e) => [e.seq, e.hash, e.body, `old-key-${e.seq}`]),
      );
      expect(got.map((e) => e.payload)).toEqual(
        expected.map((e) => (chainId === "user:old-a" && e.seq === 5 ? null : e.payload)),
      );
      // Independent check of the stored nodes: the RFC 9162 root over the entry hashes.
      const leaves = expected.map((e) => Buffer.from(e.hash, "hex"));
      expect(Buffer.from(await rootAtSize(storeNodeReader(store, chainId), n))).toEqual(
        Buffer.from(merkleRoot(leaves)),
      );
      expect((await store.findByIdempotencyKey?.(chainId, "old-key-3"))?.seq).toBe(3);
      expect(await store.latestCheckpoint?.(chainId)).toEqual({
        size: n,
        note: `checkpoint of ${chainId} at ${n}\n`,
      });
    }
    await store.close();
    expect(await readFile(path)).toEqual(original); // the chain file itself is untouched
    expect(JSON.parse(await readFile(`${path}.index/state.json`, "utf8"))).toMatchObject({ v: 1 });
  });

  it("an index rebuilt from the JSONL files equals the one written by appends", async () => {
    const store = await openFileAuditStore(path);
    await appendFixtures(store, CHAIN, 600, 7);
    await store.erasePayload(CHAIN, 9);
    const keys = nodeKeys(600);
    const written = await store.getTreeNodes?.(CHAIN, keys);
    const entries = await all(store, CHAIN);
    await store.close();
    await rm(`${path}.index`, { recursive: true });
    const again = await openFileAuditStore(path);
    expect(await again.getTreeNodes?.(CHAIN, keys)).toEqual(written);
    expect(written?.every((h) => h?.length === 32)).toBe(true);
    expect(await all(again, CHAIN)).toEqual(entries);
    expect(entries[9]?.payload).toBeNull();
    for (const seq of [0, 1, 299, 599])
      expect((await again.findByIdempotencyKey?.(CHAIN, fixtureKey(seq)))?.seq).toBe(seq);
    expect(await again.findByIdempotencyKey?.(CHAIN, "never")).toBeUndefined();
    await again.close();
  });

  it("keys in several key tables are found, and a reused one is refused", async () => {
    const store = await openFileAuditStore(path);
    await appendFixtures(store, CHAIN, 5000, 250); // > 2048 keys: the first table fills, a second starts
    expect(
      await readFile(join(`${path}.index`, chainFolder(CHAIN), "k1")).catch(() => null),
    ).not.toBeNull();
    for (const seq of [0, 1000, 2047, 2048, 4999])
      expect((await store.findByIdempotencyKey?.(CHAIN, fixtureKey(seq)))?.seq).toBe(seq);
    expect(await store.findByIdempotencyKey?.(CHAIN, "never")).toBeUndefined();
    const [next] = fixtureEntries(CHAIN, 5000, 1);
    expect(
      await codeOf(
        store.append({
          chainId: CHAIN,
          expectedSize: 5000,
          entries: [{ ...(next as StoredEntry), idempotencyKey: fixtureKey(17) }],
        }),
      ),
    ).toBe("ERR_AUDIT_APPEND_CONFLICT");
    await store.close();
    // The same keys, written a window at a time by a rebuild, across tables as well.
    await rm(`${path}.index`, { recursive: true });
    const rebuilt = await openFileAuditStore(path);
    for (const seq of [0, 1000, 2047, 2048, 3333, 4999])
      expect((await rebuilt.findByIdempotencyKey?.(CHAIN, fixtureKey(seq)))?.seq).toBe(seq);
    expect(await rebuilt.findByIdempotencyKey?.(CHAIN, "never")).toBeUndefined();
    await rebuilt.close();
  });

  it("tree nodes left by an append whose line never landed are not served, and are cut by the next append", async () => {
    const store = await openFileAuditStore(path);
    await appendFixtures(store, CHAIN, 4);
    // What a writer killed between writing the index and the batch line leaves: nodes past the size.
    const n0 = await open(join(`${path}.index`, chainFolder(CHAIN), "n0"), "r+");
    await n0.write(Buffer.alloc(32, 7), 0, 32, 4 * 32);
    await n0.close();
    expect(await store.getTreeNodes?.(CHAIN, [{ level: 0, index: 4 }])).toEqual([undefined]);
    const [next] = fixtureEntries(CHAIN, 4, 1, (await store.head(CHAIN)).headHash ?? undefined);
    await store.append({ chainId: CHAIN, expectedSize: 4, entries: [next as StoredEntry] }); // no nodes
    expect(await store.getTreeNodes?.(CHAIN, [{ level: 0, index: 4 }])).toEqual([undefined]);
    await store.close();
  });

  it("refuses a malformed tree node before writing anything", async () => {
    const store = await openFileAuditStore(path);
    const [e] = fixtureEntries(CHAIN, 0, 1);
    const bad = { level: 0, index: 0, hash: new Uint8Array(31).fill(1) };
    expect(
      await codeOf(
        store.append({
          chainId: CHAIN,
          expectedSize: 0,
          entries: [e as StoredEntry],
          treeNodes: [bad],
        }),
      ),
    ).toBe("ERR_INVALID_ARGUMENT");
    expect(await store.head(CHAIN)).toEqual({ size: 0, headHash: null });
    expect((await readFile(`${path}.payloads`)).length).toBe(0);
    await store.close();
  });

  it("an index record that does not match the chain file fails closed", async () => {
    const store = await openFileAuditStore(path);
    await appendFixtures(store, CHAIN, 20);
    await store.close();
    const entries = await open(join(`${path}.index`, chainFolder(CHAIN), "entries"), "r+");
    await entries.write(Buffer.alloc(32, 0xab), 0, 32, 5 * 64); // entry 5's hash
    await entries.close();
    const again = await openFileAuditStore(path);
    expect(await codeOf(all(again, CHAIN))).toBe("ERR_AUDIT_STORE_CORRUPT");
    await again.close();
  });

  it("read-only opening of a store without an index builds a private one and leaves the folder alone", async () => {
    const store = await openFileAuditStore(path);
    await appendFixtures(store, CHAIN, 40);
    const entries = await all(store, CHAIN);
    await store.close();
    await rm(`${path}.index`, { recursive: true });
    const ro = await openFileAuditStore(path, { readOnly: true });
    expect(await all(ro, CHAIN)).toEqual(entries);
    expect(await ro.getTreeNodes?.(CHAIN, [{ level: 5, index: 0 }])).toHaveLength(1);
    await ro.close();
    expect(await readFile(`${path}.index/state.json`).catch(() => null)).toBeNull();
  });

  it("proofs from the on-disk tree verify, across full and partial tiles", async () => {
    const store = await openFileAuditStore(path);
    const entries = await appendFixtures(store, CHAIN, 700, 50);
    const leaves = entries.map((e) => Buffer.from(e.hash, "hex"));
    const nodes = storeNodeReader(store, CHAIN);
    const root = merkleRoot(leaves);
    for (const i of [0, 255, 256, 511, 600, 699]) {
      const proof = await inclusionProof(nodes, i, 700);
      expect(verifyInclusion(leaves[i] as Uint8Array, i, 700, proof, root)).toBe(true);
      expect(verifyInclusion(leaves[i] as Uint8Array, i, 700, proof, new Uint8Array(32))).toBe(
        false,
      );
    }
    for (const old of [1, 256, 513]) {
      const proof = await consistencyProof(nodes, old, 700);
      expect(verifyConsistency(old, 700, proof, merkleRoot(leaves.slice(0, old)), root)).toBe(true);
    }
    await store.close();
  });

  it("after a writer is killed with SIGKILL mid-appends, the index equals one rebuilt from the JSONL files", async () => {
    const script = join(dir, "writer.mts");
    const src = new URL("../../../src/", import.meta.url).pathname;
    await writeFile(
      script,
      `import { openFileAuditStore } from "${src}audit/storage/file/store.ts";
import { fixtureEntries } from "${src}audit/testing/fixtures.ts";
import { MerkleFrontier } from "${src}audit/transparency/merkle.ts";
const store = await openFileAuditStore(${JSON.stringify(path)});
const frontier = new MerkleFrontier();
const entries = fixtureEntries(${JSON.stringify(CHAIN)}, 0, 100000);
for (let seq = 0; ; seq += 3) {
  const part = entries.slice(seq, seq + 3).map((e) => ({ ...e, idempotencyKey: "k" + e.seq }));
  const treeNodes = part.flatMap((e) => frontier.append(Buffer.from(e.hash, "hex")));
  await store.append({ chainId: ${JSON.stringify(CHAIN)}, expectedSize: seq, entries: part, treeNodes });
  process.stdout.write(seq + 2 + "\\n");
}`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acked = "";
    child.stdout.on("data", (d: Buffer) => {
      acked += d.toString();
    });
    while ((acked.match(/\n/g) ?? []).length < 30) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    child.kill("SIGKILL");
    await once(child, "exit");
    const last = Math.max(...acked.trim().split("\n").map(Number).filter(Number.isFinite));
    const store = await openFileAuditStore(path); // catches the index up after the crash
    const { size } = await store.head(CHAIN);
    expect(size).toBeGreaterThan(last);
    const keys = nodeKeys(size);
    const nodes = await store.getTreeNodes?.(CHAIN, keys);
    const entries = await all(store, CHAIN);
    const found = await store.findByIdempotencyKey?.(CHAIN, `k${last}`);
    await store.close();
    const copy = join(dir, "copy.jsonl");
    await cp(path, copy);
    await cp(`${path}.payloads`, `${copy}.payloads`);
    const rebuilt = await openFileAuditStore(copy); // no index: built from the JSONL files alone
    expect(await rebuilt.getTreeNodes?.(CHAIN, keys)).toEqual(nodes);
    expect(nodes?.every((h) => h?.length === 32)).toBe(true);
    expect(await all(rebuilt, CHAIN)).toEqual(entries);
    expect(found?.seq).toBe(last);
    await rebuilt.close();
  }, 60_000);
});
