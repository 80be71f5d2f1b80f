import { describe, expect, it } from "vitest";
import {
  assertIdentity,
  currentIdentity,
  hostIdentity,
  isIdentity,
  operatorIdentity,
  requireIdentity,
  runAs,
} from "../../src/guard/index.js";
import { guardRuntime } from "../../src/guard/runtime.js";

describe("identity brand", () => {
  it("a look-alike object literal is not an identity", () => {
    const real = hostIdentity("user-a");
    const forged = { ...real };
    const frozen = Object.freeze({ ...real });
    const proto = Object.create(real) as object;
    expect(isIdentity(real)).toBe(true);
    for (const f of [forged, frozen, proto, JSON.parse(JSON.stringify(real))]) {
      expect(isIdentity(f)).toBe(false);
      expect(() => assertIdentity(f)).toThrow(
        expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
      );
      expect(() => runAs(f as never, () => 1)).toThrow(
        expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
      );
    }
  });

  it("identities are frozen", () => {
    const who = hostIdentity("user-a");
    expect(() => {
      (who as { userId: string }).userId = "user-b";
    }).toThrow(TypeError);
    expect(who.userId).toBe("user-a");
  });

  it("Precondition: only a branded, live identity counts as the caller.", () => {
    // Going around runAs (straight into the shared AsyncLocalStorage) with a forgery fails closed.
    const forged = { ...hostIdentity("user-b") };
    guardRuntime().context.run(forged as never, () => {
      expect(currentIdentity()).toBeUndefined();
      expect(() => requireIdentity()).toThrow(
        expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
      );
    });
  });

  it("an identity with a ttl expires", () => {
    const who = hostIdentity("user-a", { ttlMs: -1 });
    expect(isIdentity(who)).toBe(true);
    expect(() => assertIdentity(who)).toThrow(
      expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
    );
  });

  it("rejects invalid user ids", () => {
    for (const id of ["", " a", "a b", "x".repeat(129), "a\n", "é"]) {
      expect(() => hostIdentity(id)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    }
    expect(operatorIdentity("ops-1").kind).toBe("operator");
  });
});
