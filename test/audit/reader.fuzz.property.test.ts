/**
 * Reader fuzz: random byte mutations of valid exports (JSON Lines and CSV). Two properties:
 * the library's verifier and the verifier page's engine (web/verifier/src/engine.ts, here in Node;
 * the Chromium run of the same engine is e2e/verifier.vectors.e2e.test.ts) reach the same result,
 * and whatever is accepted re-encodes to exactly its input bytes — one byte string per log.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  csvEntryRow,
  csvHead,
  type ExportFormat,
  jsonlEntryLine,
  jsonlManifestLine,
  readExport,
  verifyExport,
} from "../../src/audit/export/index.js";
import { sha256Node } from "../../src/audit/primitives/index.js";
import { runVerification } from "../../web/verifier/src/engine.js";
import { inputBytes, loadAuditVectors } from "./vectors.js";

const seeds = loadAuditVectors().filter(
  (v) => v.result.valid && Object.keys(v.trusted).length === 0 && inputBytes(v).length < 8000,
);
const ALPHABET = [
  0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2f, 0x30, 0x31, 0x3a, 0x5c, 0x61, 0x7b, 0x7d, 0xef, 0xbb, 0xbf,
  0xc3, 0xff,
];

const mutation = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.constantFrom(...ALPHABET) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    byte: fc.constantFrom(...ALPHABET),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({
    op: fc.constant("flip" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 7 }),
  }),
);

function mutate(
  bytes: Uint8Array,
  ms: Array<{ op: string; at: number; byte: number }>,
): Uint8Array {
  let b = Array.from(bytes);
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    if (m.op === "set" && at < b.length) b[at] = m.byte;
    else if (m.op === "insert") b = [...b.slice(0, at), m.byte, ...b.slice(at)];
    else if (m.op === "delete" && at < b.length) b.splice(at, 1);
    else if (m.op === "flip" && at < b.length) b[at] = (b[at] as number) ^ (1 << m.byte);
  }
  return Uint8Array.from(b);
}

async function reencode(bytes: Uint8Array, format: ExportFormat): Promise<Uint8Array> {
  let out = "";
  for await (const r of readExport([bytes], { format })) {
    if (r.kind === "manifest")
      out += format === "csv" ? csvHead(r.manifest) : jsonlManifestLine(r.manifest);
    else {
      const e = {
        seq: r.item.entry.seq,
        hash: r.item.hash ?? "",
        body: r.item.body,
        payload: r.item.payload ?? null,
      };
      out += format === "csv" ? csvEntryRow(e) : jsonlEntryLine(e);
    }
  }
  return new TextEncoder().encode(out);
}

describe("export readers under mutation", () => {
  test.prop([fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 })], { numRuns: 10_000 })(
    "library and page engine agree; accepted ⇒ re-encoding is byte-identical",
    async (pick, ms) => {
      const v = seeds[pick % seeds.length];
      if (!v) throw new Error("no seed vectors");
      const bytes = mutate(inputBytes(v), ms);
      const page = await runVerification({
        exportName: `x.${v.format}`,
        exportSize: bytes.length,
        verifierKeys: [],
        witnessKeys: [],
        openExport: async function* () {
          yield bytes;
        },
      });
      // The page reads the format from the content; the library is told the same format.
      const lib = await verifyExport([bytes], { format: page.format, sha256: sha256Node });
      const { manifest: _m, ...libChain } = lib;
      expect(page.chain).toEqual(libChain);
      if (lib.ok)
        expect(Buffer.from(await reencode(bytes, page.format)).equals(Buffer.from(bytes))).toBe(
          true,
        );
    },
    120_000,
  );
});
