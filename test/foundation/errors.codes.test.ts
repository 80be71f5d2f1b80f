import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isKeywardenError, KeywardenError } from "../../src/errors.js";
import { Secret } from "../../src/secret.js";

describe("KeywardenError", () => {
  it("carries a stable code, the cause and frozen details", () => {
    const cause = new Error("low level");
    const err = new KeywardenError("ERR_AUDIT_CHAIN_BROKEN", "chain broken at seq 3", {
      cause,
      details: { seq: 3 },
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe("ERR_AUDIT_CHAIN_BROKEN");
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ seq: 3 });
    expect(Object.isFrozen(err.details)).toBe(true);
    expect(err.name).toBe("KeywardenError");
  });

  it("codes are unique, prefixed and SCREAMING_SNAKE", () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const c of ERROR_CODES) expect(c).toMatch(/^ERR_[A-Z0-9_]+$/);
  });

  it("isKeywardenError narrows by code and recognises errors from another copy of the library", () => {
    const err = new KeywardenError("ERR_VAULT_DECRYPT_FAILED", "decryption operation failed");
    expect(isKeywardenError(err)).toBe(true);
    expect(isKeywardenError(err, "ERR_VAULT_DECRYPT_FAILED")).toBe(true);
    expect(isKeywardenError(err, "ERR_INTERNAL")).toBe(false);
    expect(isKeywardenError(new Error("x"))).toBe(false);
    const foreign = Object.assign(new Error("x"), {
      code: "ERR_INTERNAL",
      [Symbol.for("keywarden.error")]: true,
    });
    expect(isKeywardenError(foreign, "ERR_INTERNAL")).toBe(true);
  });

  it("toJSON has no cause or stack, and a secret cause stays redacted", () => {
    const s = Secret.fromString("CANARY-cause-7f3a");
    const err = new KeywardenError("ERR_INTERNAL", "failed", { cause: s });
    expect(JSON.stringify(err)).not.toContain("CANARY");
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: "KeywardenError",
      code: "ERR_INTERNAL",
      message: "failed",
    });
    expect(inspect(err, { showHidden: true })).not.toContain("CANARY");
  });
});
