/**
 * Bitget short codes as the mirrored Get Account Information pages list them (re-read for issue
 * 17): each case sends the documented sample with only `authorities` replaced.
 */
import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import type { KeyPermissions } from "../../src/permissions/types.js";
import * as doc from "./fixtures/documented.js";

const KEY = { apiKey: "4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte" };
const withCodes = (authorities: string[]): KeyPermissions => {
  const body = structuredClone(doc.bitgetSample);
  body.data.authorities = authorities;
  const r = EXCHANGE_SPECS.bitget.parse([body], KEY);
  if (!r.ok) throw new Error(`expected permissions, got ${r.findings.map((f) => f.code)}`);
  return r.permissions;
};

describe("bitget authorities codes (mirror value list)", () => {
  it("the read-only codes, pledge-loan read included, read without moving funds", () => {
    const p = withCodes([
      "coor",
      "cpor",
      "stor",
      "smor",
      "ttor",
      "wtor",
      "taxr",
      "chor",
      "p2pr",
      "pllr",
    ]);
    expect(p).toMatchObject({ read: true, withdraw: false, transfer: false });
    expect(p.unknownTokens).toEqual([]);
  });
  it("spot and futures read-write codes trade without moving funds", () => {
    const p = withCodes(["stow", "coow", "cpow", "smow"]);
    expect(p).toMatchObject({ trade: true, withdraw: false, transfer: false });
  });
  it.each([["chow"], ["ttow"], ["p2p"], ["p2pw"], ["pllw"], ["taxw"]])(
    "%s (listed, effect on funds not explained) leaves withdraw and transfer unknown",
    (c) => {
      const p = withCodes(["stow", c]);
      expect(p.withdraw).toBe("unknown");
      expect(p.transfer).toBe("unknown");
    },
  );
  it("wtow transfers and wwow withdraws", () => {
    expect(withCodes(["stow", "wtow"]).transfer).toBe(true);
    expect(withCodes(["stow", "wwow"])).toMatchObject({ withdraw: true, transfer: true });
  });
});
