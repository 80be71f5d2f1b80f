/**
 * `keywarden key check --record` writes an exchange's answer as a fixture only when no credential
 * value survived redaction. Redaction replaces values; an exchange that echoes the API key as a
 * member *name* (here injected into the simulator's OKX answer) would slip past it, and the
 * after-redaction check must refuse to write the file, without echoing the key.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { key } from "../../src/cli/key.js";
import { runCli } from "../../src/cli/run.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { okxSample } from "./fixtures/documented.js";
import { register, testKey } from "./support/credentials.js";

let sim: ExchangeSimulator;
const dir = mkdtempSync(join(tmpdir(), "kw-record-inv-"));
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function check(argv: string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = "";
  stdout.on("data", (d) => {
    out += d;
  });
  stderr.on("data", (d) => {
    out += d;
  });
  stdin.end("");
  const io: CliIo = { stdout, stderr, stdin, env, cwd: process.cwd() };
  const code = await runCli(["key", "check", ...argv], io, { key: async () => key });
  return { code, out };
}

describe("key check --record", () => {
  it("the recording holds no credential value (checked after redaction)", async () => {
    const k = testKey("okx", "leak");
    register(sim, "okx", k, { read: true, trade: true });
    // A fresh environment per run: the CLI takes the secrets out of the one it is given.
    const env = () => ({
      KEYWARDEN_API_KEY: k.apiKey,
      KEYWARDEN_API_SECRET: k.secret,
      KEYWARDEN_API_PASSPHRASE: k.password as string,
    });
    const run = (file: string) =>
      check(
        ["--exchange", "okx", "--url", sim.url("okx"), "--no-require-ip", "--record", file],
        env(),
      );
    // The same key, answered normally: the recording is written.
    const clean = join(dir, "clean.json");
    expect([0, 1]).toContain((await run(clean)).code);
    expect(existsSync(clean)).toBe(true);
    // The answer names the key as a member name, where value redaction does not reach.
    const leaky = structuredClone(okxSample);
    (leaky.data[0] as Record<string, unknown>)[k.apiKey] = true;
    (leaky.data[0] as Record<string, unknown>).perm = "read_only,trade";
    sim.inject({
      exchange: "okx",
      kind: "custom",
      endpoint: "GET /api/v5/account/config",
      body: leaky,
    });
    const file = join(dir, "leaky.json");
    const r = await run(file);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/recording refused: a credential survived redaction/);
    expect(existsSync(file)).toBe(false);
    for (const v of [k.apiKey, k.secret, k.password as string]) expect(r.out).not.toContain(v);
  });
});
