import { describe, expect, it } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import {
  assertPermissionsAccepted,
  decide,
  evaluatePermissions,
  resolvePolicy,
} from "../../src/permissions/policy.js";
import { perms } from "./support/fake.js";

const codes = (v: ReturnType<typeof evaluatePermissions>) =>
  v.ok ? [] : v.findings.map((f) => f.code);
const OPEN = { requireIpRestriction: false } as const;

describe("evaluatePermissions", () => {
  it("accepts a trade key bound to the configured address", () => {
    expect(evaluatePermissions(perms(), { allowedOutboundIps: ["203.0.113.7"] }).ok).toBe(true);
  });
  it("a withdraw-capable key is rejected whatever the policy says.", () => {
    const loosest = { requireIpRestriction: false, acceptReadOnly: true, rejectTransfer: false };
    expect(codes(evaluatePermissions(perms({ withdraw: true }), loosest))).toContain(
      "WITHDRAW_ENABLED",
    );
  });
  it("rejects transfer by default, accepts it when rejectTransfer is false", () => {
    expect(codes(evaluatePermissions(perms({ transfer: true })))).toEqual(["TRANSFER_ENABLED"]);
    expect(evaluatePermissions(perms({ transfer: true }), { rejectTransfer: false }).ok).toBe(true);
  });
  it('an unknown capability is rejected, never read as "off".', () => {
    for (const cap of ["read", "trade", "withdraw", "transfer"] as const) {
      expect(codes(evaluatePermissions(perms({ [cap]: "unknown" }), OPEN))).toContain(
        "PERMISSION_UNKNOWN",
      );
    }
  });
  it("rejects every unknown token", () => {
    expect(codes(evaluatePermissions(perms({ unknownTokens: ["a", "b"] }), OPEN))).toEqual([
      "UNKNOWN_TOKEN",
      "UNKNOWN_TOKEN",
    ]);
  });
  it("read-only keys: rejected by default, accepted with acceptReadOnly", () => {
    expect(codes(evaluatePermissions(perms({ trade: false })))).toEqual(["READ_ONLY"]);
    expect(evaluatePermissions(perms({ trade: false }), { acceptReadOnly: true }).ok).toBe(true);
  });
  it("requires IP restriction by default; unknown restriction is rejected", () => {
    expect(codes(evaluatePermissions(perms({ ipRestricted: false })))).toEqual([
      "IP_NOT_RESTRICTED",
    ]);
    expect(codes(evaluatePermissions(perms({ ipRestricted: "unknown" })))).toEqual([
      "IP_RESTRICTION_UNKNOWN",
    ]);
    expect(evaluatePermissions(perms({ ipRestricted: false }), OPEN).ok).toBe(true);
  });
  it("rejects an allow-list holding an address outside the configured ones", () => {
    const p = perms({ ipAllowList: ["203.0.113.7", "198.51.100.1"] });
    expect(codes(evaluatePermissions(p, { allowedOutboundIps: ["203.0.113.7"] }))).toEqual([
      "IP_LIST_MISMATCH",
    ]);
    expect(evaluatePermissions(p, { allowedOutboundIps: ["198.51.100.1", "203.0.113.7"] }).ok).toBe(
      true,
    );
  });
  it("compares IPv6 addresses in canonical form", () => {
    const p = perms({ ipAllowList: ["2001:DB8:0:0::1"] });
    expect(evaluatePermissions(p, { allowedOutboundIps: ["2001:db8::1"] }).ok).toBe(true);
  });
  it("a masked or unreported allow-list fails the outbound-address check.", () => {
    const { ipAllowList: _, ...masked } = perms();
    expect(codes(evaluatePermissions(masked, { allowedOutboundIps: ["203.0.113.7"] }))).toEqual([
      "IP_LIST_UNKNOWN",
    ]);
  });
  it("rejects invalid policies", () => {
    expect(() => resolvePolicy({ allowedOutboundIps: ["not-an-ip"] })).toThrow(
      /invalid permission policy/,
    );
    expect(() => resolvePolicy({ probeExchanges: ["bitmex" as never] })).toThrow();
    expect(() => resolvePolicy({ withdraw: true } as never)).toThrow();
  });
});

describe("decide / assertPermissionsAccepted", () => {
  it("a failed detection is a rejection with its findings", () => {
    const v = decide({ ok: false, findings: [{ code: "NETWORK", exchange: "okx", message: "x" }] });
    expect(v.ok).toBe(false);
  });
  it("throws ERR_PERMISSIONS_WITHDRAW_ENABLED for withdraw, before other findings", () => {
    try {
      assertPermissionsAccepted({
        ok: true,
        permissions: perms({ withdraw: true, trade: false, ipRestricted: false }),
      });
      expect.unreachable();
    } catch (err) {
      expect(isKeywardenError(err, "ERR_PERMISSIONS_WITHDRAW_ENABLED")).toBe(true);
      expect((err as { details: Record<string, unknown> }).details.findings).toBe(
        "WITHDRAW_ENABLED,READ_ONLY,IP_NOT_RESTRICTED",
      );
    }
  });
  it("maps detection failures to their error codes", () => {
    const cases = [
      ["INVALID_KEY", "ERR_PERMISSIONS_INVALID_KEY"],
      ["IP_NOT_ALLOWED", "ERR_PERMISSIONS_IP_NOT_ALLOWED"],
      ["PERMISSION_DENIED", "ERR_PERMISSIONS_DENIED"],
      ["NETWORK", "ERR_PERMISSIONS_NETWORK"],
      ["UNSUPPORTED", "ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE"],
      ["MALFORMED_RESPONSE", "ERR_PERMISSIONS_UNKNOWN"],
      ["PROBE_NOT_ENABLED", "ERR_PERMISSIONS_POLICY"],
    ] as const;
    for (const [finding, code] of cases) {
      expect(() =>
        assertPermissionsAccepted({
          ok: false,
          findings: [{ code: finding, exchange: "okx", message: "m" }],
        }),
      ).toThrow(expect.objectContaining({ code }));
    }
  });
  it("returns the permissions when accepted", () => {
    expect(assertPermissionsAccepted({ ok: true, permissions: perms() }).trade).toBe(true);
  });
});
