import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { decide } from "../../src/permissions/policy.js";
import type { ExchangeId } from "../../src/permissions/types.js";
import { type LoadedFixture, loadFixtures } from "./fixtures/load.js";
import { replay } from "./fixtures/replay.js";

const POLICY = { requireIpRestriction: false } as const;
const all = loadFixtures();
const specOf = (id: string) =>
  Object.hasOwn(EXCHANGE_SPECS, id) ? EXCHANGE_SPECS[id as ExchangeId] : undefined;

/** Every fixture runs through the parser of the exchange whose folder holds it. */
const runs: { id: string; f: LoadedFixture }[] = all.map((f) => ({ id: f.exchange, f }));

describe("response fixtures replayed through the parsers", () => {
  it("there are fixtures, and every folder names a registered exchange", () => {
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) expect(specOf(f.exchange), f.file).toBeDefined();
  });

  it.each(runs.map((r) => [`${r.id} ${r.f.name}`, r] as const))("%s", (_t, { id, f }) => {
    const result = replay(id, f);
    const want = f.fixture.expect;
    if (!want.ok) {
      expect(result.ok, f.file).toBe(false);
      const got = result.ok ? [] : result.findings.map((x) => x.code);
      for (const c of want.findings) expect(got, f.file).toContain(c);
      return;
    }
    if (!result.ok) throw new Error(`${f.file}: ${result.findings.map((x) => x.code).join(",")}`);
    const p = result.permissions;
    expect(
      { read: p.read, trade: p.trade, withdraw: p.withdraw, transfer: p.transfer },
      f.file,
    ).toEqual({
      read: want.read,
      trade: want.trade,
      withdraw: want.withdraw,
      transfer: want.transfer,
    });
    if (want.ipRestricted !== undefined) expect(p.ipRestricted, f.file).toBe(want.ipRestricted);
    const verdict = decide(result, POLICY);
    if (want.verdict) expect(verdict.ok ? "accepted" : "rejected", f.file).toBe(want.verdict);
    const codes = verdict.ok ? [] : verdict.findings.map((x) => x.code);
    for (const c of want.findings ?? []) expect(codes, f.file).toContain(c);
  });
});
