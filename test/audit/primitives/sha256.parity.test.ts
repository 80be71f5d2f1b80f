import { createHash } from "node:crypto";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { sha256Node } from "../../../src/audit/primitives/sha256.js";
import { sha256Portable } from "../../../src/audit/primitives/sha256-portable.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("SHA-256 implementations", () => {
  it("match the FIPS 180-2 vectors", () => {
    const abc = new TextEncoder().encode("abc");
    for (const sha of [sha256Node, sha256Portable]) {
      expect(hex(sha(new Uint8Array()))).toBe(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      );
      expect(hex(sha(abc))).toBe(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      );
    }
  });

  test.prop([fc.uint8Array({ maxLength: 4096 })])(
    "node:crypto and @noble/hashes return identical digests",
    (data) => {
      expect(hex(sha256Node(data))).toBe(hex(sha256Portable(data)));
      expect(hex(sha256Node(data))).toBe(createHash("sha256").update(data).digest("hex"));
    },
  );

  it("hash a subarray view, not its whole buffer", () => {
    const buf = new Uint8Array([1, 2, 3, 4, 5]);
    expect(hex(sha256Node(buf.subarray(1, 3)))).toBe(hex(sha256Portable(new Uint8Array([2, 3]))));
  });
});

describe("sha256Node.textHex", () => {
  test.prop([fc.string({ unit: "grapheme", maxLength: 300 })])(
    "equals the hex digest of the text's UTF-8 bytes",
    (text) => {
      expect(sha256Node.textHex?.(text)).toBe(hex(sha256Portable(new TextEncoder().encode(text))));
    },
  );
});

describe("sha256Node.bytesHex", () => {
  test.prop([fc.uint8Array({ maxLength: 600 }), fc.nat(8)])(
    "equals the hex digest of the bytes, also for a subarray view",
    (bytes, cut) => {
      const view = bytes.subarray(Math.min(cut, bytes.length));
      expect(sha256Node.bytesHex?.(view)).toBe(hex(sha256Portable(view.slice())));
    },
  );
});
