import { afterEach, describe, expect, it } from "vitest";
import { takeSecretFromEnv } from "../../src/env.js";

const NAME = "KEYWARDEN_TEST_SECRET";
afterEach(() => {
  delete process.env[NAME];
});

describe("takeSecretFromEnv", () => {
  it("reads once and deletes the variable from process.env", () => {
    process.env[NAME] = "c2VjcmV0LWJ5dGVz";
    const s = takeSecretFromEnv(NAME, "base64");
    expect(NAME in process.env).toBe(false);
    expect(s.use((b) => Buffer.from(b).toString())).toBe("secret-bytes");
    expect(() => takeSecretFromEnv(NAME)).toThrow(
      expect.objectContaining({ code: "ERR_ENV_SECRET_MISSING" }),
    );
  });

  it("decodes hex and base64url, and refuses malformed encodings without echoing the value", () => {
    process.env[NAME] = "00ff";
    expect(takeSecretFromEnv(NAME, "hex").use((b) => [...b])).toEqual([0, 255]);
    process.env[NAME] = "AP8";
    expect(takeSecretFromEnv(NAME, "base64url").use((b) => [...b])).toEqual([0, 255]);
    process.env[NAME] = "CANARY-not-hex";
    let message = "";
    try {
      takeSecretFromEnv(NAME, "hex");
    } catch (e) {
      message = String((e as Error).message) + JSON.stringify(e);
    }
    expect(message).toContain(NAME);
    expect(message).not.toContain("CANARY");
    expect(NAME in process.env).toBe(false);
  });

  it("a child process does not inherit a secret that was taken", async () => {
    process.env[NAME] = "CANARY-inherit";
    takeSecretFromEnv(NAME).wipe();
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync(
      process.execPath,
      ["-e", `process.stdout.write(String(process.env.${NAME}))`],
      {
        encoding: "utf8",
      },
    );
    expect(out).toBe("undefined");
  });
});
