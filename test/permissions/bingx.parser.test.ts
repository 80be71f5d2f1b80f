import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import type { DetectionResult } from "../../src/permissions/types.js";
import * as doc from "./fixtures/documented.js";

const parse = (body: unknown): DetectionResult =>
  EXCHANGE_SPECS.bingx.parse([body], { apiKey: "k" });

describe("bingx parser invariants", () => {
  it("a BingX body carrying a non-zero code is an error, whatever else it holds", () => {
    expect(parse(doc.bingxSample).ok).toBe(true);
    for (const code of [1, 100001, 100419, -1]) {
      const r = parse({ code, msg: "x", data: doc.bingxSample });
      expect(r.ok, String(code)).toBe(false);
      const bare = parse({ ...doc.bingxSample.data, code });
      expect(bare.ok, `bare ${code}`).toBe(false);
    }
  });

  it("any field the documented sample lacks that is switched on is an unknown token", () => {
    for (const v of [true, 1, ["x"], { on: true }]) {
      const r = parse({ ...doc.bingxSample, data: { ...doc.bingxSample.data, canMoveFunds: v } });
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.permissions.unknownTokens).toContain("canMoveFunds");
    }
    const off = parse({
      ...doc.bingxSample,
      data: { ...doc.bingxSample.data, canMoveFunds: false },
    });
    expect(off.ok && off.permissions.unknownTokens).toEqual([]);
  });
});
