/**
 * The line reader decodes a chunk's whole lines at once. This holds it to the obvious reading,
 * one line at a time, on arbitrary bytes cut into arbitrary chunks: same lines, same line
 * numbers, and the same first error (invalid UTF-8, CR, empty or overlong line, a last line without LF).
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { readLines } from "../../../src/audit/export/line-reader.js";
import { isKeywardenError } from "../../../src/errors.js";

type Outcome = { lines: Array<{ text: string; line: number }>; error?: string };

/** The reference: split on LF, then check each line in order. */
function reference(bytes: Uint8Array, max: number): Outcome {
  const lines: Outcome["lines"] = [];
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++)
    if (bytes[i] === 10) {
      parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  const unterminated = start < bytes.length;
  if (unterminated) parts.push(bytes.subarray(start));
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  for (const [i, part] of parts.entries()) {
    const line = i + 1;
    if (part.length > max) return { lines, error: `line ${line}: longer than ${max} bytes` };
    if (part.length === 0) return { lines, error: `line ${line}: empty line` };
    let text: string;
    try {
      text = decoder.decode(part);
    } catch {
      return { lines, error: `line ${line}: invalid UTF-8` };
    }
    if (text.includes("\r")) return { lines, error: `line ${line}: carriage return in line` };
    if (unterminated && i === parts.length - 1)
      return { lines, error: `line ${line}: last line does not end with LF` };
    lines.push({ text, line });
  }
  return { lines };
}

async function actual(chunks: Uint8Array[], max: number): Promise<Outcome> {
  const lines: Outcome["lines"] = [];
  try {
    for await (const l of readLines(chunks, max)) lines.push({ text: l.text, line: l.line });
  } catch (err) {
    if (!isKeywardenError(err, "ERR_AUDIT_MALFORMED_INPUT")) throw err;
    expect(err.details?.line).toBe(Number(/^line (\d+)/.exec(err.message)?.[1]));
    return { lines, error: err.message };
  }
  return { lines };
}

const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "{", "é", "€", "😀", "\n", "\n", " ") },
  { weight: 1, arbitrary: fc.constantFrom("\r", "\n\n", "\uFEFF") },
  { weight: 1, arbitrary: fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98]) },
);
const input = fc
  .array(piece, { maxLength: 60 })
  .map((ps) =>
    Buffer.concat(ps.map((p) => (typeof p === "string" ? Buffer.from(p) : Uint8Array.from(p)))),
  );

describe("readLines", () => {
  test.prop([input, fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 3, max: 40 })], {
    numRuns: 2000,
  })(
    "reads any bytes in any chunking like the line-by-line reference",
    async (bytes, cuts, max) => {
      const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const c of [...at, bytes.length]) {
        chunks.push(bytes.subarray(from, c));
        from = c;
      }
      expect(await actual(chunks, max)).toEqual(reference(bytes, max));
    },
  );
});
