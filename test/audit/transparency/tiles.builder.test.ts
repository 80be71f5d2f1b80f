import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../../src/audit/primitives/index.js";
import { MerkleFrontier, merkleRoot } from "../../../src/audit/transparency/merkle.js";
import { TileTreeBuilder } from "../../../src/audit/transparency/tiles/builder.js";
import { tileLeafHash } from "../../../src/audit/transparency/tiles/reader.js";

const entry = (i: number) =>
  sha256(Uint8Array.of(i & 255, (i >> 8) & 255, i >> 16)).subarray(0, 5 + (i % 40));

describe("TileTreeBuilder", () => {
  it("gives the RFC 9162 root of the per-node frontier at every size across tile boundaries", () => {
    const b = new TileTreeBuilder();
    const f = new MerkleFrontier();
    const full: string[] = [];
    for (let i = 0; i < 66_000; i++) {
      const e = entry(i);
      b.appendEntry(e, (t) => full.push(`${t.level}/${t.index}`));
      f.append(tileLeafHash(e));
      if (i < 600 || i % 997 === 0 || (i >= 65_530 && i <= 65_540)) {
        expect(toHex(b.root())).toBe(toHex(f.root()));
      }
    }
    expect(b.size).toBe(66_000);
    expect(full).toContain("1/0");
    expect(full.filter((t) => t.startsWith("0/")).length).toBe(Math.floor(66_000 / 256));
  });

  it("emits full tiles whose hashes are the leaf hashes, and reloads from its partial tiles", () => {
    const leaves = Array.from({ length: 700 }, (_, i) => tileLeafHash(entry(i)));
    const b = new TileTreeBuilder();
    const tiles: Uint8Array[] = [];
    for (const l of leaves) b.appendLeafHash(l, (t) => tiles.push(t.bytes));
    expect(tiles.length).toBe(2);
    expect(toHex((tiles[1] as Uint8Array).subarray(0, 32))).toBe(toHex(leaves[256] as Uint8Array));
    expect(toHex(b.root())).toBe(toHex(merkleRoot(leaves)));
    const again = TileTreeBuilder.fromEdge(700, [b.partialTile(0), b.partialTile(1)]);
    expect(toHex(again.root())).toBe(toHex(b.root()));
    expect(() => TileTreeBuilder.fromEdge(701, [b.partialTile(0), b.partialTile(1)])).toThrow();
    const c = again.clone();
    c.appendLeafHash(leaves[0] as Uint8Array, () => {});
    expect(toHex(again.root())).toBe(toHex(b.root()));
    expect(toHex(c.root())).toBe(toHex(merkleRoot([...leaves, leaves[0] as Uint8Array])));
  });
});
