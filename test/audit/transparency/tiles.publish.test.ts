import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { verifyConsistency, verifyInclusion } from "../../../src/audit/transparency/merkle.js";
import { signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  decodeEntryBundle,
  directoryTileFetcher,
  encodeEntryBundle,
  encodeTileIndex,
  entryBundlePath,
  httpTileFetcher,
  TileDirectoryWriter,
  TileLogClient,
  tileAt,
  tilePath,
} from "../../../src/audit/transparency/tiles/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import * as ref from "./reference-merkle.js";

const enc = new TextEncoder();
const entry = (i: number) => enc.encode(`entry-${i}`);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "kw-tiles-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const { signer } = LocalEd25519Signer.generate("heads.example.com/log");
async function publish(w: TileDirectoryWriter): Promise<string> {
  const text = formatCheckpoint({
    origin: "heads.example.com/log",
    size: w.size,
    rootHash: w.root(),
    timestamp: undefined,
    extensions: [],
  });
  const note = await signNote(text, [signer]);
  await w.publishCheckpoint(note);
  return note;
}

describe("tlog-tiles paths", () => {
  it("encodes indexes as x-prefixed 3-digit groups (the C2SP example 1234067 → x001/x234/067)", () => {
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
    expect(encodeTileIndex(0)).toBe("000");
    expect(encodeTileIndex(999)).toBe("999");
    expect(encodeTileIndex(1000)).toBe("x001/000");
    expect(encodeTileIndex(1_000_000)).toBe("x001/x000/000");
  });
  it("names full and partial tiles and bundles", () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe("tile/0/x001/x234/067");
    expect(tilePath({ level: 2, index: 5, width: 8 })).toBe("tile/2/005.p/8");
    expect(entryBundlePath(3, 1)).toBe("tile/entries/003.p/1");
    expect(() => tilePath({ level: 0, index: 0, width: 0 })).toThrow();
    expect(() => tilePath({ level: 0, index: -1, width: 256 })).toThrow();
  });
  it("sizes tiles from the tree size", () => {
    expect(tileAt(1000, 0, 3)).toEqual({ level: 0, index: 3, width: 232 });
    expect(tileAt(1000, 1, 0)).toEqual({ level: 1, index: 0, width: 3 });
    expect(tileAt(1000, 0, 4)).toBeUndefined();
    expect(tileAt(65536, 1, 0)).toEqual({ level: 1, index: 0, width: 256 });
  });
  it("round-trips entry bundles and rejects truncated ones", () => {
    const b = encodeEntryBundle([enc.encode("a"), enc.encode("bc"), new Uint8Array(0)]);
    expect(hex(b)).toBe("00016100026263" + "0000");
    expect(decodeEntryBundle(b, 3).map((e) => Buffer.from(e).toString())).toEqual(["a", "bc", ""]);
    expect(() => decodeEntryBundle(b.subarray(0, 5), 2)).toThrow();
    expect(() => decodeEntryBundle(b, 2)).toThrow();
  });
});

describe("tlog-tiles directory publication and reading", () => {
  it("proofs from tiles equal the RFC 9162 reference at every index and size step", async () => {
    const dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    const leaves: Uint8Array[] = [];
    const steps = [1, 1, 254, 1, 200, 300, 70];
    for (const step of steps) {
      const batch = Array.from({ length: step }, (_, i) => entry(leaves.length + i));
      await w.append(batch);
      for (const e of batch) leaves.push(ref.leafHash(e));
      expect(hex(w.root())).toBe(hex(ref.mth(leaves)));
      await publish(w);
    }
    const client = new TileLogClient(directoryTileFetcher(dir));
    const n = leaves.length; // 827
    for (const size of [1, 2, 256, 257, 511, 512, n]) {
      for (let i = 0; i < size; i += size > 300 ? 37 : 1) {
        const proof = await client.inclusionProof(i, size);
        expect(proof.map(hex)).toEqual(ref.path(i, leaves.slice(0, size)).map(hex));
      }
      for (const old of [1, 3, 255, 256, 300]) {
        if (old >= size) continue;
        const proof = await client.consistencyProof(old, size);
        expect(proof.map(hex)).toEqual(ref.proof(old, leaves.slice(0, size)).map(hex));
      }
    }
    expect(Buffer.from(await client.entry(700, n)).toString()).toBe("entry-700");
  });

  it("a client that alternates tree sizes still proves each size against the reference (kept right-edge hashes are per size)", async () => {
    const dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    const leaves: Uint8Array[] = [];
    for (const step of [300, 250, 277]) {
      const batch = Array.from({ length: step }, (_, i) => entry(leaves.length + i));
      await w.append(batch);
      for (const e of batch) leaves.push(ref.leafHash(e));
      await publish(w);
    }
    const client = new TileLogClient(directoryTileFetcher(dir));
    const sizes = [827, 550, 827, 300, 549, 827];
    for (let round = 0; round < 3; round++) {
      for (const size of sizes) {
        for (const i of [0, 1, 255, 256, 299, size - 2, size - 1]) {
          if (i < 0 || i >= size) continue;
          const proof = await client.inclusionProof(i, size);
          expect(proof.map(hex)).toEqual(ref.path(i, leaves.slice(0, size)).map(hex));
        }
      }
    }
  });

  it("reopens from the published checkpoint and continues across a level-1 tile (70,000 leaves)", async () => {
    const dir = await tempDir();
    let w = await TileDirectoryWriter.open(dir);
    const leaves: Uint8Array[] = [];
    for (const step of [65_000, 1_000, 4_000]) {
      const batch = Array.from({ length: step }, (_, i) => entry(leaves.length + i));
      await w.append(batch);
      for (const e of batch) leaves.push(ref.leafHash(e));
      await publish(w);
      w = await TileDirectoryWriter.open(dir);
    }
    expect(w.size).toBe(70_000);
    const root = w.root();
    const client = new TileLogClient(directoryTileFetcher(dir));
    for (const i of [0, 255, 256, 65_535, 65_536, 69_999, 12_345]) {
      const proof = await client.inclusionProof(i, 70_000);
      expect(verifyInclusion(leaves[i] as Uint8Array, i, 70_000, proof, root)).toBe(true);
    }
    const old = await client.consistencyProof(66_000, 70_000);
    const oldRoot = ref.mth(leaves.slice(0, 66_000));
    expect(verifyConsistency(66_000, 70_000, old, oldRoot, root)).toBe(true);
    const full = await readdir(join(dir, "tile", "1"));
    expect(full).toContain("000"); // the full level-1 tile
  });

  it("a file beyond the published checkpoint is replaced by the tree's bytes (C2SP: immutable once covered)", async () => {
    const dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    await w.append(Array.from({ length: 255 }, (_, i) => entry(i)));
    // A different full tile planted where the next append writes tile/0/000, which no checkpoint covers.
    await mkdir(join(dir, "tile", "0"), { recursive: true });
    await writeFile(join(dir, "tile", "0", "000"), new Uint8Array(256 * 32));
    await w.append([entry(255)]);
    const tile = new Uint8Array(await readFile(join(dir, "tile", "0", "000")));
    expect(hex(tile.subarray(0, 32))).toBe(hex(ref.leafHash(entry(0))));
    await publish(w);
    expect((await TileDirectoryWriter.open(dir)).size).toBe(256);
  });

  it("reopening a directory whose tiles do not hash to the checkpoint fails closed", async () => {
    const dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    await w.append(Array.from({ length: 300 }, (_, i) => entry(i)));
    await publish(w);
    const partial = join(dir, "tile", "0", "001.p", "44");
    const forged = Buffer.from(await readFile(partial));
    forged[0] = (forged[0] as number) ^ 1;
    await rm(partial);
    await writeFile(partial, forged);
    await expect(TileDirectoryWriter.open(dir)).rejects.toSatisfy(
      (e: unknown) => isKeywardenError(e) && e.code === "ERR_AUDIT_STORE_INVARIANT",
    );
  });

  it("refuses a checkpoint that does not describe the tiled tree", async () => {
    const dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    await w.append([entry(0), entry(1)]);
    const text = formatCheckpoint({
      origin: "heads.example.com/log",
      size: 1,
      rootHash: ref.leafHash(entry(0)),
      timestamp: undefined,
      extensions: [],
    });
    await expect(w.publishCheckpoint(await signNote(text, [signer]))).rejects.toSatisfy(
      (e: unknown) => isKeywardenError(e) && e.code === "ERR_AUDIT_CHECKPOINT_INVALID",
    );
  });
});

describe("tlog-tiles over HTTP on 127.0.0.1 with an LRU cache", () => {
  let server: Server;
  let base: string;
  let dir: string;
  let requests = 0;
  beforeAll(async () => {
    dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    await w.append(Array.from({ length: 1000 }, (_, i) => entry(i)));
    await publish(w);
    const files = directoryTileFetcher(dir);
    server = createServer((req, res) => {
      requests++;
      const path = (req.url ?? "/").slice(1);
      files.fetch(path).then(
        (body) => {
          if (body === undefined) res.writeHead(404).end();
          else res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
        },
        () => res.writeHead(400).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("builds the same proof over HTTP, fetching each tile once", async () => {
    const client = new TileLogClient(httpTileFetcher(base));
    const local = new TileLogClient(directoryTileFetcher(dir));
    const note = await client.checkpointNote();
    expect(note).toContain("heads.example.com/log\n1000\n");
    const before = requests;
    const p1 = await client.inclusionProof(500, 1000);
    expect(p1.map(hex)).toEqual((await local.inclusionProof(500, 1000)).map(hex));
    const cold = client.fetchCount;
    expect(cold).toBeLessThanOrEqual(3);
    await client.inclusionProof(501, 1000);
    expect(client.fetchCount).toBe(cold);
    expect(requests - before).toBe(cold);
  });

  it("a missing tile is a typed error, not a wrong proof", async () => {
    const client = new TileLogClient(httpTileFetcher(base));
    await expect(client.inclusionProof(5, 2000)).rejects.toSatisfy(
      (e: unknown) => isKeywardenError(e) && e.code === "ERR_AUDIT_TILE_INVALID",
    );
  });
});
