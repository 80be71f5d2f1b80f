import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(__dirname, "../..");

async function* files(dir: string): AsyncGenerator<string> {
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) yield* files(p);
    else yield p;
  }
}

/**
 * Issue 9's acceptance: canary credentials pushed through the whole demo flow (onboarding, sealing,
 * grant, orders, a refused withdrawal, kill switch, exports, checkpoint, CLI verification) appear in
 * no output and in no file it leaves — not even the sealed credential store, which holds only
 * ciphertext. Every form is searched: as text, hex and base64.
 */
describe("npm run demo with canary credentials", () => {
  const out = mkdtemp(join(tmpdir(), "kw-demo-canary-"));
  afterAll(async () => rm(await out, { recursive: true, force: true }));

  it("completes, and the canaries are in no output and no file", async () => {
    const dir = await out;
    const canaries = {
      tradeKey: `CANARY-trade-key-${randomBytes(6).toString("hex")}`,
      tradeSecret: `CANARY-trade-secret-${randomBytes(12).toString("hex")}`,
      withdrawKey: `CANARY-wd-key-${randomBytes(6).toString("hex")}`,
      withdrawSecret: `CANARY-wd-secret-${randomBytes(12).toString("hex")}`,
    };
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", "examples/demo/main.ts", "--out", dir],
      {
        cwd: root,
        timeout: 240_000,
        env: {
          ...process.env,
          KEYWARDEN_DEMO_API_KEY: canaries.tradeKey,
          KEYWARDEN_DEMO_API_SECRET: canaries.tradeSecret,
          KEYWARDEN_DEMO_WITHDRAW_API_KEY: canaries.withdrawKey,
          KEYWARDEN_DEMO_WITHDRAW_API_SECRET: canaries.withdrawSecret,
        },
      },
    );
    expect(stdout).toContain("Done: every step passed.");
    const forms = Object.values(canaries).flatMap((c) => [
      c,
      Buffer.from(c).toString("hex"),
      Buffer.from(c).toString("base64"),
    ]);
    for (const form of forms) {
      expect(stdout).not.toContain(form);
      expect(stderr).not.toContain(form);
    }
    let scanned = 0;
    for await (const file of files(dir)) {
      const bytes = await readFile(file);
      scanned++;
      for (const form of forms) {
        if (bytes.includes(Buffer.from(form)))
          throw new Error(`canary found in ${file.slice(dir.length)}`);
      }
    }
    expect(scanned).toBeGreaterThan(8);
  }, 300_000);

  it("the exports it left verify with the CLI, and an edited copy does not", async () => {
    const dir = await out;
    const cli = (args: string[]) =>
      run(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: root }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? 1,
      );
    const vkey = (await readFile(join(dir, "log-verifier.key"), "utf8")).trim();
    const cp = join(dir, "alice-checkpoint.txt");
    expect(
      await cli([
        "audit",
        "verify",
        join(dir, "alice-audit.jsonl"),
        "--checkpoint",
        cp,
        "--vkey",
        vkey,
      ]),
    ).toBe(0);
    expect(
      await cli([
        "audit",
        "verify",
        join(dir, "alice-audit.csv"),
        "--checkpoint",
        cp,
        "--vkey",
        vkey,
      ]),
    ).toBe(0);
    expect(await cli(["audit", "verify", join(dir, "alice-audit.EDITED.jsonl")])).toBe(1);
    expect(
      await cli([
        "audit",
        "verify",
        join(dir, "alice-audit.TRUNCATED.jsonl"),
        "--checkpoint",
        cp,
        "--vkey",
        vkey,
      ]),
    ).toBe(1);
  }, 120_000);
});
