import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(__dirname, "../..");

/**
 * `npm run demo -- --signer` with canary credentials: the bot process proves the trade key absent
 * from its environment, heap snapshot and output (the demo fails otherwise, with a positive control
 * that the snapshot search sees the capability the bot does hold), and no output or file the demo
 * leaves — the signer's log included — holds a canary.
 */
describe("npm run demo -- --signer with canary credentials", () => {
  const out = mkdtemp(join(tmpdir(), "kw-demo-signer-"));
  afterAll(async () => rm(await out, { recursive: true, force: true }));

  it("the bot trades through the signer, and the canaries are nowhere", async () => {
    const dir = await out;
    const canaries = [
      `CANARY-trade-key-${randomBytes(6).toString("hex")}`,
      `CANARY-trade-secret-${randomBytes(12).toString("hex")}`,
    ];
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", "examples/demo/main.ts", "--signer", "--out", dir],
      {
        cwd: root,
        timeout: 240_000,
        env: {
          ...process.env,
          KEYWARDEN_DEMO_API_KEY: canaries[0],
          KEYWARDEN_DEMO_API_SECRET: canaries[1],
        },
      },
    );
    expect(stdout).toContain("trades through the signer's Unix socket");
    expect(stdout).toContain("absent from the bot's environment");
    expect(stdout).toContain("Done: every step passed.");
    for (const c of canaries) {
      expect(stdout + stderr).not.toContain(c);
    }
    const walk = async (d: string): Promise<string[]> =>
      (
        await Promise.all(
          (
            await readdir(d)
          ).map(async (n) => {
            const p = join(d, n);
            return (await stat(p)).isDirectory() ? walk(p) : [p];
          }),
        )
      ).flat();
    const all = await walk(dir);
    expect(all.some((f) => f.endsWith("signer.log"))).toBe(true);
    for (const f of all) {
      const bytes = await readFile(f);
      for (const c of canaries) expect(bytes.includes(Buffer.from(c)), f).toBe(false);
    }
  }, 300_000);
});
