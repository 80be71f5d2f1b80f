/**
 * Invariants of the heads log's receipts and of the tile directory's checkpoint publication,
 * against a real HeadsLog (signed with a real Ed25519 key, on a temp directory) and a real
 * TileDirectoryWriter.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { HeadsLog, verifyHeadsReceipt } from "../../../src/audit/transparency/heads/index.js";
import { parseVerifierKey, signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { TileDirectoryWriter } from "../../../src/audit/transparency/tiles/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import { Secret } from "../../../src/secret.js";

const ORIGIN = "audit.example.com/keywarden-heads";
const root = (n: number) => Uint8Array.from({ length: 32 }, () => n);
const dirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("heads receipts", () => {
  it("a heads leaf that does not name this chain at this size, root and time is rejected", async () => {
    const { signer } = LocalEd25519Signer.generate(ORIGIN);
    const heads = await HeadsLog.open({
      dir: await tempDir("kw-heads-inv-"),
      origin: ORIGIN,
      signer,
      headsSecret: Secret.copyOf(Uint8Array.from({ length: 32 }, (_, i) => 255 - i)),
      now: () => 1764400000,
    });
    const alice = "audit.example.com/keywarden/user:alice";
    const bob = "audit.example.com/keywarden/user:bob";
    heads.enqueue({ origin: alice, size: 7, rootHash: root(1), timestamp: 1764399999 });
    heads.enqueue({ origin: bob, size: 7, rootHash: root(1), timestamp: 1764399999 });
    await heads.integrate();
    const receipt = await heads.receipt(0);
    const policy = { logKeys: [parseVerifierKey(signer.verifierKey)], origin: ORIGIN };
    const chain = { size: 7, rootHash: root(1), time: 1764399999 };
    const chainKey = heads.chainKey(alice);
    // The leaf names alice's chain at size 7, this root and this time: it verifies.
    expect(verifyHeadsReceipt(receipt, { chainKey, chain, policy }).headsIndex).toBe(0);
    // Any other chain, size, root or time is refused with the same opaque error.
    for (const wrong of [
      { chainKey: heads.chainKey(bob), chain },
      { chainKey, chain: { ...chain, size: 8 } },
      { chainKey, chain: { ...chain, size: 6 } },
      { chainKey, chain: { ...chain, rootHash: root(2) } },
      { chainKey, chain: { ...chain, time: 1764399998 } },
    ]) {
      let err: unknown;
      try {
        verifyHeadsReceipt(receipt, { ...wrong, policy });
      } catch (e) {
        err = e;
      }
      expect(isKeywardenError(err, "ERR_AUDIT_PROOF_INVALID"), JSON.stringify(wrong.chain)).toBe(
        true,
      );
      expect((err as Error).message).toBe("heads receipt verification failed");
    }
  });
});

describe("tile directory checkpoints", () => {
  const { signer } = LocalEd25519Signer.generate("tiles.example.com/log");
  const note = (size: number, rootHash: Uint8Array) =>
    signNote(
      formatCheckpoint({
        origin: "tiles.example.com/log",
        size,
        rootHash,
        timestamp: undefined,
        extensions: [],
      }),
      [signer],
    );
  const entry = (i: number) => new TextEncoder().encode(`entry-${i}`);
  const refused = (e: unknown) => isKeywardenError(e, "ERR_AUDIT_CHECKPOINT_INVALID");

  it("a published checkpoint describes exactly the tree whose tiles are on disk, never a smaller one", async () => {
    const dir = await tempDir("kw-tiles-inv-");
    const w = await TileDirectoryWriter.open(dir);
    await w.append(Array.from({ length: 300 }, (_, i) => entry(i)));
    const at300 = await note(300, w.root());
    // A size the tiles do not have, in either direction, or another root: refused.
    await expect(w.publishCheckpoint(await note(299, w.root()))).rejects.toSatisfy(refused);
    await expect(w.publishCheckpoint(await note(301, w.root()))).rejects.toSatisfy(refused);
    await expect(w.publishCheckpoint(await note(300, root(7)))).rejects.toSatisfy(refused);
    await w.publishCheckpoint(at300);
    expect(await readFile(join(dir, "checkpoint"), "utf8")).toBe(at300);
    // After more tiles, the old (smaller) checkpoint is never published again.
    await w.append([entry(300), entry(301)]);
    await expect(w.publishCheckpoint(at300)).rejects.toSatisfy(refused);
    expect(await readFile(join(dir, "checkpoint"), "utf8")).toBe(at300);
    const at302 = await note(302, w.root());
    await w.publishCheckpoint(at302);
    expect(await readFile(join(dir, "checkpoint"), "utf8")).toBe(at302);
    // Reopened, the writer's tree is the published one, and it still refuses a smaller note.
    const reopened = await TileDirectoryWriter.open(dir);
    expect(reopened.size).toBe(302);
    await expect(reopened.publishCheckpoint(at300)).rejects.toSatisfy(refused);
  });
});
