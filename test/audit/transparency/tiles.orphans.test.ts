/**
 * C2SP tlog-tiles publication after an interrupted batch: a batch's tiles and entry bundles are
 * written, its checkpoint is not (a crashed process, a failed signing or cosigning step). Files are
 * immutable once a published checkpoint covers them; the orphans beyond it are replaced by the
 * next writer, and the log it publishes verifies (here and, where Go is installed, with
 * golang.org/x/mod/sumdb/tlog). The same rule on the S3 storage, against an in-memory bucket that
 * answers like S3 (412 on `If-None-Match: *` over an existing key, 404 on a missing one).
 */
import { mkdtemp, readdir, readFile, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  directoryTileStorage,
  TileDirectoryWriter,
  TileLogWriter,
  type TileStorage,
  tileCoveredBy,
} from "../../../src/audit/transparency/tiles/index.js";
import { s3TileStorage } from "../../../src/audit/transparency/tiles/s3.js";
import { isKeywardenError } from "../../../src/errors.js";
import * as ref from "./reference-merkle.js";
import { goTilecheck, type SeenCheckpoint, verifyPublishedDirectory } from "./tiles-verify.js";

const ORIGIN = "tiles.example.com/orphans";
const enc = new TextEncoder();
const { signer } = LocalEd25519Signer.generate(ORIGIN);
const invariant = (e: unknown) => isKeywardenError(e, "ERR_AUDIT_STORE_INVARIANT");

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "kw-tiles-orphans-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function publish(w: TileLogWriter): Promise<SeenCheckpoint> {
  const text = formatCheckpoint({
    origin: ORIGIN,
    size: w.size,
    rootHash: w.root(),
    timestamp: 1764400000 + w.size,
    extensions: [],
  });
  await w.publishCheckpoint(await signNote(text, [signer]));
  return { size: w.size, rootHash: w.root() };
}

const batch = (tag: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => enc.encode(`${tag} ${from + i}`));

async function listFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p));
    }
  };
  await walk(dir);
  return out;
}

/** An in-memory bucket answering the four commands s3.ts sends as S3 does. */
function memoryBucket() {
  const objects = new Map<string, Uint8Array>();
  const sent: { name: string; key: string; ifNoneMatch?: string }[] = [];
  const fail = (name: string, status: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  const client = {
    // biome-ignore lint/suspicious/noExplicitAny: the SDK's command objects.
    async send(command: any): Promise<any> {
      const name = command.constructor.name as string;
      const { Key, Body, IfNoneMatch } = command.input as {
        Key: string;
        Body?: Uint8Array;
        IfNoneMatch?: string;
      };
      sent.push({
        name,
        key: Key,
        ...(IfNoneMatch === undefined ? {} : { ifNoneMatch: IfNoneMatch }),
      });
      const stored = objects.get(Key);
      if (name === "PutObjectCommand") {
        if (IfNoneMatch === "*" && stored !== undefined) throw fail("PreconditionFailed", 412);
        objects.set(Key, new Uint8Array(Body as Uint8Array));
        return {};
      }
      if (stored === undefined)
        throw fail(name === "HeadObjectCommand" ? "NotFound" : "NoSuchKey", 404);
      if (name === "HeadObjectCommand") return {};
      if (name === "GetObjectCommand")
        return { Body: { transformToByteArray: async () => stored.slice() } };
      throw new Error(`unexpected ${name}`);
    },
  };
  return { client, objects, sent };
}

describe("orphans of a batch whose checkpoint was never published", () => {
  it("a new writer replaces them (a torn one too), publishes, and the log verifies — also with Go's sumdb/tlog", async () => {
    const dir = await tempDir();
    const w1 = await TileDirectoryWriter.open(dir);
    await w1.append(batch("kept", 0, 300));
    const olds = [await publish(w1)];
    const atPublish = await listFiles(dir);
    // The lost batch: 70,000 entries (full level-0 tiles and bundles, a level-1 partial tile), no checkpoint.
    await w1.append(batch("lost", 300, 70_000));
    const lost = await listFiles(dir);
    const orphans = [...lost.keys()].filter((p) => !atPublish.has(p));
    expect(orphans.length).toBeGreaterThan(500);
    // A crash mid-write leaves a torn file at its final path.
    await truncate(join(dir, "tile/0/001"), 100);
    await truncate(join(dir, "tile/entries/002"), 7);

    const w2 = await TileDirectoryWriter.open(dir);
    expect(w2.size).toBe(300);
    const kept = batch("kept", 300, 70_000);
    await w2.append(kept);
    olds.push(await publish(w2));
    const after = await listFiles(dir);
    // Every orphan path was written again by the new batch, with the new batch's bytes.
    const leaves = [...batch("kept", 0, 300), ...kept].map((e) => ref.leafHash(e));
    expect(Buffer.from(w2.root()).toString("hex")).toBe(
      Buffer.from(ref.mth(leaves)).toString("hex"),
    );
    for (const p of orphans) {
      expect(after.has(p), p).toBe(true);
      expect(after.get(p)?.equals(lost.get(p) as Buffer), p).toBe(false);
    }
    // Files covered by the published checkpoint are untouched.
    for (const [p, bytes] of atPublish) {
      if (p !== "checkpoint") expect(after.get(p)?.equals(bytes), p).toBe(true);
    }
    expect((await stat(join(dir, "tile/0/001"))).size).toBe(256 * 32);
    expect(after.get("tile/0/001")?.subarray(0, 32)).toEqual(
      Buffer.from(leaves[256] as Uint8Array),
    );
    const sample = [0, 255, 256, 299, 300, 12_345, 65_535, 65_536, 70_299];
    const published = await verifyPublishedDirectory(dir, signer.verifierKey, olds, sample);
    expect(published.size).toBe(70_300);
    const w3 = await TileDirectoryWriter.open(dir);
    expect(w3.size).toBe(70_300);
    const go = await goTilecheck(dir, signer.verifierKey, olds, sample);
    if (go !== undefined) expect(go).toBe(`ok ${2 + 2 * sample.length + 2}`);
  }, 120_000);

  it("Precondition: a tile covered by the published checkpoint is never replaced; different bytes are an invariant failure", async () => {
    const dir = await tempDir();
    const storage = directoryTileStorage(dir);
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    await storage.putImmutable("tile/0/000.p/2", a);
    await storage.putImmutable("tile/0/000.p/2", a); // the same bytes: success
    await expect(storage.putImmutable("tile/0/000.p/2", b)).rejects.toSatisfy(invariant);
    await expect(storage.putImmutable("tile/0/000.p/2", b, { uncovered: false })).rejects.toSatisfy(
      invariant,
    );
    expect(new Uint8Array(await readFile(join(dir, "tile/0/000.p/2")))).toEqual(a);
    await storage.putImmutable("tile/0/000.p/2", b, { uncovered: true });
    expect(new Uint8Array(await readFile(join(dir, "tile/0/000.p/2")))).toEqual(b);
    await storage.sync?.();
    // No temporary file is left behind by the replacement.
    expect(await readdir(join(dir, "tile/0"))).toEqual(["000.p"]);
    expect(await readdir(join(dir, "tile/0/000.p"))).toEqual(["2"]);
    await expect(storage.putImmutable("../escape", a)).rejects.toSatisfy((e: unknown) =>
      isKeywardenError(e, "ERR_INVALID_ARGUMENT"),
    );
  });

  it("Precondition: a tile covered by the published checkpoint is never replaced; only one beyond it may be", async () => {
    // The writer's own decision, over a recording storage: after a checkpoint of 300 and a lost
    // batch to 1,000, the next writer's every write is marked uncovered, none touches a covered path.
    const dir = await tempDir();
    const inner = directoryTileStorage(dir);
    const puts: { path: string; uncovered: boolean | undefined }[] = [];
    const storage: TileStorage = {
      fetcher: inner.fetcher,
      putImmutable: (path, data, options) => {
        puts.push({ path, uncovered: options?.uncovered });
        return inner.putImmutable(path, data, options);
      },
      sync: () => inner.sync?.() ?? Promise.resolve(),
      putCheckpoint: (note) => inner.putCheckpoint(note),
    };
    const w1 = await TileLogWriter.openStorage(storage);
    await w1.append(batch("kept", 0, 300));
    await publish(w1);
    const covered = new Set((await listFiles(dir)).keys());
    await w1.append(batch("lost", 300, 700));
    puts.length = 0;
    const w2 = await TileLogWriter.openStorage(storage);
    await w2.append(batch("kept", 300, 700));
    expect(puts.length).toBeGreaterThan(4);
    for (const p of puts) {
      expect(covered.has(p.path), p.path).toBe(false);
      expect(p.uncovered, p.path).toBe(true);
    }
    // The coverage rule itself, at the edges of a 300-leaf tree.
    expect(tileCoveredBy({ level: 0, index: 0, width: 256 }, 300)).toBe(true);
    expect(tileCoveredBy({ level: 0, index: 1, width: 44 }, 300)).toBe(true);
    expect(tileCoveredBy({ level: 0, index: 1, width: 45 }, 300)).toBe(false);
    expect(tileCoveredBy({ level: 0, index: 1, width: 256 }, 300)).toBe(false);
    expect(tileCoveredBy({ level: 1, index: 0, width: 1 }, 300)).toBe(true);
    expect(tileCoveredBy({ level: 1, index: 0, width: 2 }, 300)).toBe(false);
    expect(tileCoveredBy({ level: 0, index: 0, width: 1 }, 0)).toBe(false);
  });

  it("Precondition: a writer appends and publishes only on the checkpoint it knows; one published by another writer is never overwritten", async () => {
    const dir = await tempDir();
    const w = await TileDirectoryWriter.open(dir);
    await w.append(batch("e", 0, 300));
    await publish(w);
    const a = await TileDirectoryWriter.open(dir);
    const b = await TileDirectoryWriter.open(dir);
    // b appends first; a appends and publishes; b's publication is refused.
    await b.append(batch("b", 300, 5));
    await a.append(batch("a", 300, 10));
    const byA = await publish(a);
    const note = await readFile(join(dir, "checkpoint"), "utf8");
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: b.size,
      rootHash: b.root(),
      timestamp: 1764400000,
      extensions: [],
    });
    await expect(b.publishCheckpoint(await signNote(text, [signer]))).rejects.toSatisfy(invariant);
    // and so is its next append, which would write over a's now-covered tiles.
    const before = await listFiles(dir);
    await expect(b.append(batch("b", 305, 300))).rejects.toSatisfy(invariant);
    expect(await readFile(join(dir, "checkpoint"), "utf8")).toBe(note);
    const after = await listFiles(dir);
    for (const [p, bytes] of before) expect(after.get(p)?.equals(bytes), p).toBe(true);
    expect(after.size).toBe(before.size);
    await verifyPublishedDirectory(dir, signer.verifierKey, [byA], [0, 305, 309]);
    // a goes on; a fresh writer goes on from a's checkpoint.
    await a.append(batch("a", 310, 3));
    await publish(a);
    expect((await TileDirectoryWriter.open(dir)).size).toBe(313);
  });

  it("a writer whose publication failed after the checkpoint was written adopts it as published", async () => {
    const dir = await tempDir();
    const inner = directoryTileStorage(dir);
    let failAfterWrite = true;
    const storage: TileStorage = {
      ...inner,
      putImmutable: (p, d, o) => inner.putImmutable(p, d, o),
      putCheckpoint: async (note) => {
        await inner.putCheckpoint(note);
        if (failAfterWrite) throw new Error("lost acknowledgement");
      },
    };
    const w = await TileLogWriter.openStorage(storage);
    await w.append(batch("e", 0, 10));
    await expect(publish(w)).rejects.toThrow("lost acknowledgement");
    failAfterWrite = false;
    await w.append(batch("e", 10, 10));
    const last = await publish(w);
    await verifyPublishedDirectory(dir, signer.verifierKey, [last], [0, 19]);
  });
});

describe("the same rule on an S3 bucket (in-memory, S3's answers)", () => {
  for (const conditionalWrites of [true, false]) {
    it(`${conditionalWrites ? "If-None-Match: *" : "HEAD, then PUT"}: a covered key differing is an invariant failure and stays; an uncovered one is replaced`, async () => {
      const { client, objects, sent } = memoryBucket();
      const storage = await s3TileStorage({
        client,
        bucket: "b",
        prefix: "log/",
        conditionalWrites,
      });
      const a = new Uint8Array(32).fill(1);
      const b = new Uint8Array(32).fill(2);
      await storage.putImmutable("tile/0/000.p/1", a);
      await storage.putImmutable("tile/0/000.p/1", a);
      await expect(storage.putImmutable("tile/0/000.p/1", b)).rejects.toSatisfy(invariant);
      expect(objects.get("log/tile/0/000.p/1")).toEqual(a);
      const from = sent.length;
      await storage.putImmutable("tile/0/000.p/1", b, { uncovered: true });
      expect(objects.get("log/tile/0/000.p/1")).toEqual(b);
      const puts = sent.slice(from).filter((s) => s.name === "PutObjectCommand");
      // The conditional write is tried first (and refused); the replacement is a plain PUT.
      expect(puts.at(-1)?.ifNoneMatch).toBeUndefined();
      if (conditionalWrites) expect(puts[0]?.ifNoneMatch).toBe("*");
    });
  }

  it("orphans in the bucket: the next writer replaces them, covered objects stay byte for byte", async () => {
    const { client, objects } = memoryBucket();
    const storage = await s3TileStorage({ client, bucket: "b" });
    const w1 = await TileLogWriter.openStorage(storage);
    await w1.append(batch("kept", 0, 300));
    await publish(w1);
    const atPublish = new Map([...objects].map(([k, v]) => [k, v.slice()]));
    await w1.append(batch("lost", 300, 1000));
    const w2 = await TileLogWriter.openStorage(storage);
    await w2.append(batch("kept", 300, 1000));
    const last = await publish(w2);
    for (const [k, v] of atPublish) if (k !== "checkpoint") expect(objects.get(k), k).toEqual(v);
    const w3 = await TileLogWriter.openStorage(storage);
    expect(w3.size).toBe(1300);
    expect(w3.root()).toEqual(last.rootHash);
    const leaves = batch("kept", 0, 1300).map((e) => ref.leafHash(e));
    expect(w3.root()).toEqual(ref.mth(leaves));
  });
});
