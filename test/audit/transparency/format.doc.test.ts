import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { verifyReceipt } from "../../../src/audit/transparency/receipt.js";
import { cosignatureVerifier } from "../../../src/audit/transparency/witness.js";
import { buildDocExample } from "./doc-example.js";

async function docBlocks(): Promise<Map<string, string>> {
  const doc = await readFile(new URL("../../../docs/audit-format.md", import.meta.url), "utf8");
  const blocks = new Map<string, string>();
  for (const m of doc.matchAll(/<!-- example:([a-z]+) -->\n```text\n([\s\S]*?)```\n/g))
    blocks.set(m[1] as string, m[2] as string);
  return blocks;
}

describe("docs/audit-format.md transparency worked example", () => {
  it("every example block is exactly what the code produces", async () => {
    const blocks = await docBlocks();
    const example = await buildDocExample();
    expect([...blocks.keys()].sort()).toEqual(Object.keys(example).sort());
    for (const [name, text] of Object.entries(example)) {
      expect(blocks.get(name), name).toBe(text.endsWith("\n") ? text : `${text}\n`);
    }
  });

  it("the documented receipt verifies with the documented keys", async () => {
    const blocks = await docBlocks();
    const [logKey, witnessKey] = (blocks.get("keys") ?? "").trim().split("\n") as [string, string];
    const r = verifyReceipt(blocks.get("receipt") ?? "", {
      logKeys: [parseVerifierKey(logKey)],
      witnesses: [cosignatureVerifier(witnessKey)],
      quorum: 1,
      origin: "audit.example.com/keywarden/user:alice",
      now: 1764400100,
    });
    expect(r.body).toBe('{"example":3}');
  });
});
