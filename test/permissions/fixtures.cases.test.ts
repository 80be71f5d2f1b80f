import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { decide } from "../../src/permissions/policy.js";
import type { DetectionResult } from "../../src/permissions/types.js";
import {
  FIXTURE_KINDS,
  type FixtureKind,
  type LoadedFixture,
  loadFixtures,
} from "./fixtures/load.js";
import { replay } from "./fixtures/replay.js";

/*
 * Every confirmed exchange has the four documented cases — trade-only, withdraw, transfer,
 * read-only — each from a cited source. A fixture's case is the `kind` it declares (never its file
 * name), and the declared kind must agree with what the parser reads from it under the default
 * policy (IP restriction aside, as every fixture verdict is stated).
 */
const POLICY = { requireIpRestriction: false } as const;
const all = loadFixtures();
const confirmed = Object.values(EXCHANGE_SPECS).filter((s) => s.status === "confirmed");

interface Reading {
  readonly result: DetectionResult;
  readonly accepted: boolean;
  readonly codes: readonly string[];
}
function read(f: LoadedFixture): Reading {
  const result = replay(f.exchange, f);
  const verdict = decide(result, POLICY);
  return {
    result,
    accepted: verdict.ok,
    codes: verdict.ok ? [] : verdict.findings.map((x) => x.code),
  };
}
const perms = (r: Reading) => (r.result.ok ? r.result.permissions : undefined);

/** What a fixture of each kind must read as, where the exchange documents such a key. */
const NORMAL: Readonly<Record<FixtureKind, (r: Reading) => boolean>> = {
  "trade-only": (r) => {
    const p = perms(r);
    return p?.trade === true && p.withdraw === false && p.transfer === false && r.accepted;
  },
  withdraw: (r) =>
    perms(r)?.withdraw === true && !r.accepted && r.codes.includes("WITHDRAW_ENABLED"),
  transfer: (r) => {
    const p = perms(r);
    return p?.transfer === true && p.withdraw === false && !r.accepted;
  },
  "read-only": (r) => {
    const p = perms(r);
    return (
      p?.read === true &&
      p.trade === false &&
      p.withdraw === false &&
      p.transfer === false &&
      r.codes.includes("READ_ONLY")
    );
  },
};

/**
 * Where an exchange genuinely cannot have the normal case, its fixture of that kind must show the
 * refusal instead: the key is rejected and the capability in question reads `true` or `"unknown"`,
 * never `false`. Each entry says why, from the exchange's model.
 */
const EXCEPTIONS: Readonly<Record<string, Partial<Record<FixtureKind, string>>>> = {
  okx: {
    "trade-only":
      "Trade is the only trading privilege, and a master key's Trade alone may call POST /api/v5/asset/transfer (master → sub): no trade-only key exists",
  },
  htx: {
    "trade-only":
      "a parent account's Trade key may transfer to its sub-users (POST /v1/subuser/transfer): no trade-only key exists",
  },
  woo: {
    "trade-only":
      "WOO has no transfer permission and POST /v3/asset/transfer names none: a trading key's transfer is unknown",
    transfer:
      "WOO has no transfer permission: a key without WITHDRAWAL reads transfer as unknown, with it as withdraw",
  },
  coinbase: {
    transfer: "can_transfer is the send/withdraw scope: no transfer-only key exists",
  },
  gemini: {
    transfer: "the Fund Manager role both withdraws and transfers: no transfer-only key exists",
  },
  kraken: {
    transfer:
      "Withdraw Funds is the permission AccountTransfer (master ↔ sub) needs: no transfer-only key exists",
  },
  hyperliquid: {
    transfer:
      "the account's own key signs withdraw3 and every transfer alike; an agent key can do neither",
    "read-only":
      "Hyperliquid has no read-only key (reads need no key): a signer the chain does not know is refused",
  },
};

/** The refusal an exception's fixture must show instead of the normal case. */
const REFUSAL: Readonly<Record<FixtureKind, (r: Reading) => boolean>> = {
  "trade-only": (r) => {
    const p = perms(r);
    return p?.trade === true && p.withdraw === false && p.transfer !== false && !r.accepted;
  },
  withdraw: () => false, // every confirmed exchange documents a withdrawal permission
  transfer: (r) => perms(r)?.transfer !== false && !r.accepted,
  "read-only": (r) => !r.accepted,
};

const exceptionOf = (id: string, kind: FixtureKind) => EXCEPTIONS[id]?.[kind];

describe.each(confirmed.map((s) => [s.id, s] as const))("documented cases: %s", (id) => {
  const mine = all.filter((f) => f.exchange === id);

  it.each(FIXTURE_KINDS.map((k) => [k] as const))(
    "has a %s fixture with a cited source that reads as its kind",
    (kind) => {
      const ofKind = mine.filter((f) => f.fixture.kind === kind);
      expect(ofKind.length, `${id}: no fixture declares kind ${kind}`).toBeGreaterThan(0);
      const why = exceptionOf(id, kind);
      for (const f of ofKind) {
        expect(f.fixture.source, f.file).toMatch(/^https:\/\/\S+$/);
        expect(f.fixture.section.trim().length, f.file).toBeGreaterThan(2);
        const r = read(f);
        const rule = why === undefined ? NORMAL[kind] : REFUSAL[kind];
        expect(rule(r), `${f.file} declares ${kind}${why ? ` (exception: ${why})` : ""}`).toBe(
          true,
        );
      }
    },
  );

  it("an exception holds only while no fixture of the exchange shows the normal case", () => {
    for (const kind of FIXTURE_KINDS) {
      if (exceptionOf(id, kind) === undefined) continue;
      const normal = mine.filter((f) => NORMAL[kind](read(f))).map((f) => f.file);
      expect(normal, `${id} ${kind}: a fixture shows the normal case; drop the exception`).toEqual(
        [],
      );
    }
  });
});

describe("the exception list stays honest", () => {
  it("names only confirmed exchanges, with a reason per case", () => {
    const ids = new Set(confirmed.map((s) => s.id as string));
    for (const [id, kinds] of Object.entries(EXCEPTIONS)) {
      expect(ids.has(id), `${id} is not a confirmed exchange`).toBe(true);
      for (const why of Object.values(kinds)) expect(why.length).toBeGreaterThan(20);
    }
  });
  it("a declared kind is one of the four cases, on any exchange's fixture", () => {
    for (const f of all) {
      if (f.fixture.kind !== undefined) expect(FIXTURE_KINDS, f.file).toContain(f.fixture.kind);
    }
  });
});
