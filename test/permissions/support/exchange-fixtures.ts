/**
 * Reads test/permissions/fixtures/<id>/*.json (format: .coord FORMAT §4) and checks a spec's parser
 * against each file's `expect`. Used by the per-exchange parser tests of the exchanges added in
 * permissions v2.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { ExchangeSpec, KeyContext } from "../../../src/permissions/exchanges/spec.js";
import { decide } from "../../../src/permissions/policy.js";
import type { DetectionResult } from "../../../src/permissions/types.js";

export interface ExchangeFixture {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly section: string;
  readonly derivedFrom: string | null;
  readonly answers: readonly { status: number; headers?: Record<string, string>; body: unknown }[];
  readonly key?: Partial<KeyContext> & Record<string, string>;
  readonly expect: Record<string, unknown>;
}

const ROOT = join(import.meta.dirname, "..", "fixtures");

/** Every fixture of one exchange, sorted by file name. */
export function loadFixtures(id: string): ExchangeFixture[] {
  const dir = join(ROOT, id);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({
      name: f.replace(/\.json$/, ""),
      ...(JSON.parse(readFileSync(join(dir, f), "utf8")) as Omit<ExchangeFixture, "name">),
    }));
}

/** The policy fixture verdicts are stated under. */
export const FIXTURE_POLICY = {
  requireIpRestriction: false,
  acceptReadOnly: false,
  rejectTransfer: true,
} as const;

/** The key context a fixture is parsed with. */
export function fixtureKey(f: ExchangeFixture): KeyContext {
  return { apiKey: "test-key", ...f.key } as KeyContext;
}

/** Asserts `result` matches the fixture's `expect`. */
export function expectFixture(f: ExchangeFixture, result: DetectionResult): void {
  const want = f.expect;
  if (want.ok === false) {
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.findings.map((x) => x.code)).toEqual(want.findings);
    }
    return;
  }
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  for (const field of ["read", "trade", "withdraw", "transfer", "ipRestricted"] as const) {
    if (field in want)
      expect({ field, value: result.permissions[field] }).toEqual({ field, value: want[field] });
  }
  if (want.verdict !== undefined) {
    const verdict = decide(result, FIXTURE_POLICY);
    expect(verdict.ok ? "accepted" : "rejected").toBe(want.verdict);
  }
}

/** Parses every fixture of `spec` and checks it (one assertion set per file). */
export function parseFixture(spec: ExchangeSpec, f: ExchangeFixture): DetectionResult {
  return spec.parse(
    f.answers.map((a) => a.body),
    fixtureKey(f),
  );
}
