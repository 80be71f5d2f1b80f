import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(__dirname, "..");

/** Every example is a real program: CI runs each one and checks what it printed. */
describe("examples run", () => {
  it.each([
    ["bot-loop", /tick 4: kill switch active, bot stops\nopen orders after the kill switch: 0/],
    ["http-api", /every route answered as expected/],
  ])(
    "examples/%s/main.ts exits 0",
    async (name, expected) => {
      const { stdout, stderr } = await run(
        process.execPath,
        ["--import", "tsx", `examples/${name}/main.ts`],
        {
          cwd: root,
          timeout: 120_000,
          env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
        },
      );
      expect(stdout).toMatch(expected);
      expect(stderr).toBe("");
    },
    150_000,
  );
});
