import { createHash } from "node:crypto";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { commitPayload, openingMatches } from "../../../src/audit/core/commitment.js";
import { sha256Node, sha256Portable } from "../../../src/audit/index.js";
import { canonicalize, parseCanonical } from "../../../src/canonical.js";

/**
 * openingMatches (one-pass canonical scan, the salt decoded in place) against the strict
 * reference it replaced: layout, then `parseCanonical` of an object of two members, then the
 * salt's hex, then SHA-256(salt || value) with node:crypto. Both must return the same verdict or
 * throw the same message, on real openings and on mutated ones.
 */
function reference(text: string, commitment: string): boolean | string {
  const prefix = '{"salt":"';
  const at = prefix.length + 64 + '","value":'.length;
  if (
    text.length <= at + 1 ||
    !text.startsWith(prefix) ||
    !text.startsWith('","value":', at - 10) ||
    !text.endsWith("}")
  )
    return "payload opening has the wrong layout";
  try {
    const v = parseCanonical(text);
    if (typeof v !== "object" || v === null || Array.isArray(v) || Object.keys(v).length !== 2)
      throw new Error();
  } catch {
    return "payload opening is not canonical JSON";
  }
  const salt = text.slice(prefix.length, prefix.length + 64);
  if (!/^[0-9a-f]{64}$/.test(salt)) return "payload salt must be 32 bytes of lowercase hex";
  const digest = createHash("sha256")
    .update(Buffer.from(salt, "hex"))
    .update(text.slice(at, -1), "utf8")
    .digest("hex");
  return digest === commitment;
}

function actual(text: string, commitment: string, portable: boolean): boolean | string {
  try {
    return openingMatches(text, commitment, portable ? sha256Portable : sha256Node);
  } catch (err) {
    return (err as Error).message;
  }
}

const payload = fc.jsonValue({ maxDepth: 3 }).filter((v) => {
  try {
    canonicalize(v);
    return true;
  } catch {
    return false;
  }
});
const piece = fc.oneof(
  fc.constantFrom(" ", ",", '"', "\\", "}", "{", "A", "g", "0", "é", "\ud800", ',"w":1', "\\/"),
  fc.string({ unit: "binary", maxLength: 3 }),
);
const edit = fc.record({ at: fc.nat(), del: fc.integer({ min: 0, max: 3 }), text: piece });

describe("openingMatches agrees with the strict reference", () => {
  test.prop([payload, fc.array(edit, { maxLength: 3 }), fc.boolean()], { numRuns: 3000 })(
    "on real and mutated openings",
    (value, edits, portable) => {
      const { opening, commitment } = commitPayload(value, sha256Node);
      let text = opening;
      for (const e of edits) {
        const i = e.at % (text.length + 1);
        text = text.slice(0, i) + e.text + text.slice(i + e.del);
      }
      expect(actual(text, commitment, portable)).toBe(reference(text, commitment));
    },
  );
});
