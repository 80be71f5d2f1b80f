import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { payloadCommitment } from "../../src/audit/core/commitment.js";
import { csvEntryRow, csvHead } from "../../src/audit/export/csv.js";
import { jsonlEntryLine, jsonlManifestLine } from "../../src/audit/export/jsonl.js";
import { EXPORT_FORMAT, type ExportManifest } from "../../src/audit/export/manifest.js";
import {
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  sha256Node,
  verifyExport,
} from "../../src/audit/index.js";
import type { StoredEntry } from "../../src/audit/storage/store.js";
import { canonicalize } from "../../src/canonical.js";

const ITEMS = [
  {
    salt: "11".repeat(32),
    ts: "2026-01-02T03:04:05.678Z",
    action: "killswitch.fired",
    value: { reason: "daily loss limit", scope: "all" },
  },
  {
    salt: "22".repeat(32),
    ts: "2026-01-02T03:04:06.000Z",
    action: "order.placed",
    value: {
      amount: "0.5",
      exchange: "binance",
      price: "64250.10",
      side: "buy",
      symbol: "BTC/USDT",
      type: "limit",
    },
  },
];

function block(doc: string, lang: string): string {
  const m = doc.match(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``));
  if (!m) throw new Error(`no ${lang} block`);
  return m[1] as string;
}

describe("docs/audit-format.md worked example", () => {
  it("matches the implementation byte for byte", async () => {
    const doc = await readFile(new URL("../../docs/audit-format.md", import.meta.url), "utf8");
    let prev = GENESIS_PREV_HASH;
    const stored: StoredEntry[] = [];
    for (const [seq, item] of ITEMS.entries()) {
      const valueText = canonicalize(item.value);
      const commitment = payloadCommitment(item.salt, valueText, sha256Node);
      const body = encodeEntry({
        v: 1,
        chainId: "user:alice",
        seq,
        ts: item.ts,
        actor: { kind: "host", userId: "alice", id: "host:alice" },
        action: item.action,
        payloadCommitment: commitment,
        prevHash: prev,
      });
      const hash = entryHash(body, sha256Node);
      for (const shown of [commitment, hash]) expect(doc).toContain(shown);
      if (seq === 0) expect(doc).toContain(`\n${body}\n`);
      stored.push({ seq, hash, body, payload: `{"salt":"${item.salt}","value":${valueText}}` });
      prev = hash;
    }
    const manifest: ExportManifest = {
      v: 1 as const,
      format: EXPORT_FORMAT,
      chainId: "user:alice",
      size: 2,
      headHash: prev,
    };
    const jsonl = jsonlManifestLine(manifest) + stored.map(jsonlEntryLine).join("");
    const csv = csvHead(manifest) + stored.map(csvEntryRow).join("");
    expect(block(doc, "jsonl")).toBe(jsonl);
    expect(block(doc, "csv")).toBe(csv);
    expect(
      await verifyExport([Buffer.from(jsonl)], {
        format: "jsonl",
        sha256: sha256Node,
        expected: { size: 2, headHash: prev },
      }),
    ).toMatchObject({ ok: true, size: 2 });
    expect(
      await verifyExport([Buffer.from(csv)], { format: "csv", sha256: sha256Node }),
    ).toMatchObject({ ok: true, size: 2 });
  });
});
