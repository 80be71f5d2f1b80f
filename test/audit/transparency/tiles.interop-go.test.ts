/**
 * Interop: Go's golang.org/x/mod/sumdb/tlog and sumdb/note (an independent implementation) read the
 * tiles keywarden publishes, verify the checkpoint signature, recompute the tree hash from tiles,
 * and check keywarden's inclusion and consistency proofs (and compare them with the ones tlog
 * builds itself). Source: test/interop/go/tilecheck/main.go.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBase64 } from "../../../src/audit/primitives/index.js";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  directoryTileFetcher,
  TileDirectoryWriter,
  TileLogClient,
} from "../../../src/audit/transparency/tiles/index.js";
import { buildGoProgram, goRequired, hasGo } from "../../support/go-toolchain.js";

const enc = new TextEncoder();
const ORIGIN = "heads.example.com/interop";

describe("tlog-tiles interop with golang.org/x/mod/sumdb", () => {
  it("the Go toolchain is present when CI requires it", () => {
    /* On CI a missing Go must fail, never skip. */
    if (goRequired) expect(hasGo).toBe(true);
  });

  describe.skipIf(!hasGo && !goRequired)("tilecheck", () => {
    let bin: string;
    let dir: string;
    let request: Record<string, unknown>;
    const { signer } = LocalEd25519Signer.generate(ORIGIN);

    beforeAll(async () => {
      bin = buildGoProgram(resolve(import.meta.dirname, "../../interop/go/tilecheck"));
      dir = await mkdtemp(join(tmpdir(), "kw-tiles-go-"));
      const w = await TileDirectoryWriter.open(dir);
      const olds: { size: number; root: Uint8Array }[] = [];
      let next = 0;
      for (const step of [1, 300, 65_000, 4_321]) {
        const batch = Array.from({ length: step }, () => enc.encode(`leaf ${next++}`));
        const { size, rootHash } = await w.append(batch);
        const text = formatCheckpoint({
          origin: ORIGIN,
          size,
          rootHash,
          timestamp: 1764400000 + size,
          extensions: [],
        });
        await w.publishCheckpoint(await signNote(text, [signer]));
        olds.push({ size, root: rootHash });
      }
      const size = w.size; // 69,622
      const client = new TileLogClient(directoryTileFetcher(dir));
      const indexes = [0, 1, 255, 256, 300, 65_535, 65_536, 69_000, size - 1];
      const inclusion = [];
      for (const index of indexes) {
        inclusion.push({ index, hashes: (await client.inclusionProof(index, size)).map(toBase64) });
      }
      const consistency = [];
      for (const old of olds.slice(0, -1)) {
        const hashes = (await client.consistencyProof(old.size, size)).map(toBase64);
        consistency.push({ oldSize: old.size, oldRoot: toBase64(old.root), hashes });
      }
      request = { dir, vkey: signer.verifierKey, inclusion, consistency };
    }, 120_000);
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    async function run(req: Record<string, unknown>): Promise<string> {
      const file = join(dir, "..", `${dir.split("/").pop()}.json`);
      await writeFile(file, JSON.stringify(req));
      try {
        return execFileSync(bin, [file], { encoding: "utf8", stdio: "pipe" });
      } finally {
        await rm(file, { force: true });
      }
    }

    it("Go verifies the signature, the tree hash from tiles, and every proof (and builds identical ones)", async () => {
      const out = await run(request);
      expect(out.trim()).toBe(`ok ${2 + 2 * 9 + 2 * 3}`);
    });

    it("Go rejects a tampered proof", async () => {
      const inclusion = request.inclusion as { index: number; hashes: string[] }[];
      const bad = structuredClone(inclusion);
      const first = bad[3] as { hashes: string[] };
      first.hashes[0] = toBase64(new Uint8Array(32));
      await expect(run({ ...request, inclusion: bad })).rejects.toThrow(/inclusion 256/);
    });

    it("Go rejects a checkpoint signed by another key", async () => {
      const other = LocalEd25519Signer.generate(ORIGIN).signer;
      await expect(run({ ...request, vkey: other.verifierKey })).rejects.toThrow(/signature/);
    });

    it("Go rejects a tile whose bytes were changed", async () => {
      const path = join(dir, "tile", "0", "001");
      const original = await readFile(path);
      const forged = Buffer.from(original);
      forged[31] = (forged[31] as number) ^ 0x80;
      await writeFile(path, forged);
      try {
        await expect(run(request)).rejects.toThrow(/tilecheck/);
      } finally {
        await writeFile(path, original);
      }
    });
  });
});
