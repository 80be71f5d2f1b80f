/**
 * The redacting logger reduces every error, at any depth, to its class and stable code: an
 * error's message and cause may quote what it failed on (a key, a request), so neither is logged.
 * Checked through a real pino logger.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { KeywardenError } from "../../src/errors.js";
import { redactForLog, redactingLogger } from "../../src/observability/index.js";
import { canary } from "../vault/helpers.js";

describe("log redaction of errors", () => {
  it("an error is logged by its stable code and class only — its message and cause may quote secrets", () => {
    const value = canary();
    const typed = new KeywardenError("ERR_VAULT_DECRYPT_FAILED", `failed on ${value}`, {
      cause: new Error(`inner ${value}`),
      details: { apiKey: value },
    });
    const plain = new TypeError(`cannot read ${value}`);
    (plain as { cause?: unknown }).cause = { secret: value };
    const forged = Object.assign(new Error(value), { code: value });
    expect(redactForLog(typed)).toEqual({
      type: "KeywardenError",
      code: "ERR_VAULT_DECRYPT_FAILED",
    });
    expect(redactForLog(plain)).toEqual({ type: "TypeError", code: "other" });
    // A code that is not a keywarden code is not trusted either.
    expect(redactForLog(forged)).toEqual({ type: "Error", code: "other" });
    // At any depth, and through a real pino logger (fields and a child's bindings).
    const lines: string[] = [];
    const host = pino({ level: "trace" }, { write: (l: string) => lines.push(l) });
    redactingLogger(host)
      .child({ last: plain })
      .error({ nested: { errors: [typed, plain] }, err: forged }, "failed");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      last: { type: "TypeError", code: "other" },
      nested: {
        errors: [{ type: "KeywardenError", code: "ERR_VAULT_DECRYPT_FAILED" }, { code: "other" }],
      },
      err: { type: "Error", code: "other" },
    });
    expect(lines.join("\n")).not.toContain(value);
    expect(lines.join("\n")).toContain("ERR_VAULT_DECRYPT_FAILED");
  });
});
