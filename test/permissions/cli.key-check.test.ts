import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { key } from "../../src/cli/key.js";
import { runCli } from "../../src/cli/run.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { register, testKey } from "./support/credentials.js";

let sim: ExchangeSimulator;
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, stdin?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const input = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d) => {
    out += d;
  });
  stderr.on("data", (d) => {
    err += d;
  });
  input.end(stdin ?? "");
  const io: CliIo = { stdout, stderr, stdin: input, env, cwd: process.cwd() };
  const code = await runCli(["key", "check", ...argv], io, { key: async () => key });
  return { code, out, err, env };
}

const envFor = (k: ReturnType<typeof testKey>) => ({
  KEYWARDEN_API_KEY: k.apiKey,
  KEYWARDEN_API_SECRET: k.secret,
  ...(k.password ? { KEYWARDEN_API_PASSPHRASE: k.password } : {}),
  OTHER: "kept",
});

describe("keywarden key check", () => {
  it("accepts a trade-only key from the environment, deletes the variables, never echoes the secret", async () => {
    // Bitget (passphrase exchange): an OKX Trade key can transfer, so it is no longer accepted.
    const k = testKey("bitget");
    register(sim, "bitget", k, {
      read: true,
      trade: true,
      withdraw: false,
      ipRestricted: true,
      ipAllowList: ["127.0.0.1"],
    });
    const r = await cli(
      ["--exchange", "bitget", "--url", sim.url("bitget"), "--allow-ip", "127.0.0.1"],
      envFor(k),
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("verdict:    ACCEPTED");
    expect(r.out).toContain("withdraw:   no");
    expect(r.env).toEqual({ OTHER: "kept" });
    for (const s of [k.secret, k.canary, k.password ?? "-"]) expect(r.out + r.err).not.toContain(s);
  });

  it("exits 1 for a withdraw-enabled key and prints the finding (JSON)", async () => {
    const k = testKey("binance");
    register(sim, "binance", k, { read: true, trade: true, withdraw: true, ipRestricted: true });
    const r = await cli(
      ["--exchange=binance", "--json", "--url", sim.url("binance"), "--no-require-ip"],
      envFor(k),
    );
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { verdict: string; findings: { code: string }[] };
    expect(json.verdict).toBe("rejected");
    expect(json.findings.map((f) => f.code)).toContain("WITHDRAW_ENABLED");
    expect(r.out + r.err).not.toContain(k.canary);
  });

  it("reads credentials from stdin (JSON and lines)", async () => {
    const k = testKey("kucoin");
    register(sim, "kucoin", k, { read: true, trade: true });
    const json = JSON.stringify({ apiKey: k.apiKey, secret: k.secret, passphrase: k.password });
    const a = await cli(
      ["--exchange", "kucoin", "--stdin", "--url", sim.url("kucoin"), "--no-require-ip"],
      {},
      json,
    );
    expect(a.code).toBe(0);
    const b = await cli(
      ["--exchange", "kucoin", "--stdin", "--url", sim.url("kucoin"), "--no-require-ip"],
      {},
      `${k.apiKey}\n${k.secret}\n${k.password}\n`,
    );
    expect(b.code).toBe(0);
    expect(a.out + b.out + a.err + b.err).not.toContain(k.canary);
  });

  it("an option that is not one of the command's own is refused without being echoed.", async () => {
    const k = testKey("binance");
    for (const argv of [
      ["--exchange", "binance", `--secret=${k.secret}`],
      ["--exchange", "binance", "--api-key", k.canary],
      ["--exchange", "binance", `--weird=${k.canary}`],
      ["--exchange", "binance", k.canary],
      ["--exchange", "binance", "-s", k.canary],
    ]) {
      const r = await cli(argv, envFor(k));
      expect(r.code).toBe(2);
      expect(r.out + r.err).not.toContain(k.canary);
      expect(r.env.KEYWARDEN_API_SECRET).toBeUndefined(); // deleted even on usage errors
    }
    const r = await cli(["--exchange", "binance", "--password", "x"], envFor(k));
    expect(r.err).toContain("credentials are never accepted as arguments");
  });

  it("nothing the command prints contains a credential value.", async () => {
    const k = testKey("bybit");
    register(sim, "bybit", { ...k, secret: testKey("bybit").secret }, { read: true, trade: true });
    sim.inject({ exchange: "bybit", kind: "server-error" });
    const r = await cli(["--exchange", "bybit", "--url", sim.url("bybit")], envFor(k));
    expect(r.code).toBe(1);
    expect(r.out).toContain("NETWORK");
    expect(r.out + r.err).not.toContain(k.canary);
    expect(r.out + r.err).not.toMatch(/https?:\/\/|sign=|signature=/i);
  });

  it("usage errors: missing credentials, unknown exchange, non-loopback url", async () => {
    expect((await cli(["--exchange", "binance"], {})).code).toBe(2);
    const k = testKey("binance");
    expect((await cli(["--exchange", "nope"], envFor(k))).code).toBe(2);
    const r = await cli(["--exchange", "binance", "--url", "http://exchange.example"], envFor(k));
    expect(r.code).toBe(2);
    expect(r.err).toContain("loopback");
  });
});

describe("keywarden key check: lbank and hyperliquid", () => {
  it("hyperliquid: an agent key (account address + agent private key) is accepted, the private key never printed", async () => {
    const k = testKey("hyperliquid");
    register(sim, "hyperliquid", k, { read: true, trade: true, withdraw: false });
    const r = await cli(
      ["--exchange", "hyperliquid", "--url", sim.url("hyperliquid"), "--no-require-ip"],
      envFor(k),
    );
    expect(r.err).toBe("");
    expect(r.out).toContain("trade:      yes");
    expect(r.out).toContain("withdraw:   no");
    expect(r.out).toContain("verdict:    ACCEPTED");
    expect(r.code).toBe(0);
    expect(r.env).toEqual({ OTHER: "kept" });
    expect(r.out + r.err).not.toContain(k.canary);
  });

  it("hyperliquid: the account's own private key (withdraw) is rejected; credentials read from stdin JSON", async () => {
    const k = testKey("hyperliquid");
    register(sim, "hyperliquid", k, { read: true, trade: true, withdraw: true });
    const r = await cli(
      ["--exchange", "hyperliquid", "--stdin", "--json", "--url", sim.url("hyperliquid")],
      {},
      JSON.stringify({ apiKey: k.apiKey, secret: k.secret }),
    );
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { verdict: string; permissions: { withdraw: unknown } };
    expect(json.verdict).toBe("rejected");
    expect(json.permissions.withdraw).not.toBe(false);
    expect(r.out + r.err).not.toContain(k.canary);
  });

  it("lbank: a trade key is read through the simulator (unconfirmed: rejected, nothing unread accepted)", async () => {
    const k = testKey("lbank");
    register(sim, "lbank", k, { read: true, trade: true });
    const r = await cli(
      ["--exchange", "lbank", "--json", "--url", sim.url("lbank"), "--no-require-ip"],
      envFor(k),
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { verdict: string; findings: { code: string }[] };
    expect(json.verdict).toBe("rejected");
    expect(json.findings.length).toBeGreaterThan(0);
    expect(json.findings.map((f) => f.code)).not.toContain("NETWORK");
    expect(r.out + r.err).not.toContain(k.canary);
  });

  it("lbank: a withdraw key is rejected with WITHDRAW_ENABLED", async () => {
    const k = testKey("lbank");
    register(sim, "lbank", k, { read: true, trade: true, withdraw: true });
    const r = await cli(
      ["--exchange", "lbank", "--json", "--url", sim.url("lbank"), "--no-require-ip"],
      envFor(k),
    );
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { findings: { code: string }[] };
    expect(json.findings.map((f) => f.code)).toContain("WITHDRAW_ENABLED");
    expect(r.out + r.err).not.toContain(k.canary);
  });
});
