import { readFile } from "node:fs/promises";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { jsonlManifestLine } from "../../../src/audit/export/jsonl.js";
import {
  EXPORT_FORMAT,
  type ExportManifest,
  manifestSignedText,
  signManifest,
} from "../../../src/audit/export/manifest.js";
import { sha256Node, verifyExport } from "../../../src/audit/index.js";
import { concat, toBase64 } from "../../../src/audit/primitives/bytes.js";
import {
  computeKeyId,
  keyIdHex,
  parseVerifierKey,
  SIG_TYPE_ED25519,
} from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { Secret } from "../../../src/secret.js";

/** The §15 log key: seed 00 01 … 1f named audit.example.com. */
function docSigner(): LocalEd25519Signer {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  const name = "audit.example.com";
  const id = keyIdHex(computeKeyId(name, SIG_TYPE_ED25519, ed25519.getPublicKey(seed)));
  return LocalEd25519Signer.fromSecret(
    Secret.fromString(`PRIVATE+KEY+${name}+${id}+${toBase64(concat(Uint8Array.of(1), seed))}`),
  );
}

/** The §9 manifest (chain user:alice, two entries). */
const MANIFEST: ExportManifest = {
  v: 1,
  format: EXPORT_FORMAT,
  chainId: "user:alice",
  size: 2,
  headHash: "063d2ea44b153eba53aa044c0d6bcb8d06c4e2c5fdf627e9ce07fe8196f97159",
};

function block(doc: string, marker: string): string {
  const m = doc.match(new RegExp(`<!-- ${marker} -->\\n\`\`\`text\\n([\\s\\S]*?)\`\`\``));
  if (!m) throw new Error(`no ${marker} block`);
  return m[1] as string;
}

describe("docs/audit-format.md §6.1 signed manifest example", () => {
  it("matches the implementation byte for byte and verifies with the published key", async () => {
    const doc = await readFile(new URL("../../../docs/audit-format.md", import.meta.url), "utf8");
    const signer = docSigner();
    const signed = await signManifest(MANIFEST, signer, "audit.example.com");
    expect(block(doc, "example:manifest-signed-text")).toBe(manifestSignedText(signed));
    expect(block(doc, "example:manifest-signed-line")).toBe(jsonlManifestLine(signed));

    // The §9 JSON Lines export with its manifest line replaced by the signed one verifies.
    const jsonl = doc.match(/```jsonl\n([\s\S]*?)```/)?.[1] as string;
    const lines = jsonl.split("\n");
    lines[0] = jsonlManifestLine(signed).slice(0, -1);
    const r = await verifyExport([Buffer.from(lines.join("\n"))], {
      format: "jsonl",
      sha256: sha256Node,
      manifestKeys: [parseVerifierKey(signer.verifierKey)],
    });
    expect(r).toMatchObject({ ok: true, size: 2 });
    expect(doc).toContain(signer.verifierKey);
    signer.destroy();
  });
});
