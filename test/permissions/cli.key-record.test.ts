import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { key } from "../../src/cli/key.js";
import { RECORDED_ACCOUNT, redactValue } from "../../src/cli/key-record.js";
import { runCli } from "../../src/cli/run.js";
import {
  type ExchangeSimulator,
  type SimulatedExchangeId,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { Fixture } from "./fixtures/load.js";
import { replay } from "./fixtures/replay.js";
import { register, testKey } from "./support/credentials.js";

let sim: ExchangeSimulator;
const dir = mkdtempSync(join(tmpdir(), "kw-record-"));
beforeAll(async () => {
  sim = await startExchangeSimulator();
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const input = new PassThrough();
  let out = "";
  stdout.on("data", (d) => {
    out += d;
  });
  stderr.on("data", (d) => {
    out += d;
  });
  input.end("");
  const io: CliIo = { stdout, stderr, stdin: input, env, cwd: process.cwd() };
  const code = await runCli(["key", "check", ...argv], io, { key: async () => key });
  return { code, out };
}

const EXCHANGES: SimulatedExchangeId[] = [
  "binance",
  "bybit",
  "okx",
  "kucoin",
  "coinbase",
  "kraken",
  "bitget",
  "bitfinex",
  "gemini",
  "htx",
  "lbank",
  "hyperliquid",
];

describe("keywarden key check --record", () => {
  it.each(EXCHANGES)(
    "%s: the recorded file is a valid fixture, replays to the same reading, and holds no canary secret, api key, passphrase or signature",
    async (id) => {
      const k = testKey(id, "rec");
      register(sim, id, k, {
        read: true,
        trade: true,
        withdraw: false,
        ipRestricted: true,
        ipAllowList: ["198.51.100.23"],
      });
      const file = join(dir, `${id}.json`);
      const env = {
        KEYWARDEN_API_KEY: k.apiKey,
        KEYWARDEN_API_SECRET: k.secret,
        ...(k.password ? { KEYWARDEN_API_PASSPHRASE: k.password } : {}),
      };
      const r = await cli(
        ["--exchange", id, "--url", sim.url(id), "--no-require-ip", "--record", file],
        env,
      );
      expect([0, 1]).toContain(r.code);
      const text = readFileSync(file, "utf8");
      for (const s of [k.apiKey, k.secret, k.canary, k.password ?? k.canary, "198.51.100.23"]) {
        expect(text).not.toContain(s);
      }
      expect(text).not.toMatch(/signature|sign=|bearer|-----BEGIN/i);
      const fixture = Fixture.parse(JSON.parse(text));
      for (const a of fixture.answers) {
        for (const h of Object.keys(a.headers)) expect(h).toBe("content-type");
      }
      const again = replay(id, { exchange: id, name: "recorded", file, fixture });
      const want = fixture.expect;
      if (!want.ok || !again.ok) throw new Error("expected permissions");
      expect({ trade: again.permissions.trade, withdraw: again.permissions.withdraw }).toEqual({
        trade: want.trade,
        withdraw: want.withdraw,
      });
    },
  );

  it("hyperliquid: the account address (any case) becomes the placeholder in the answer and the key alike, so the agent replays as accepted", async () => {
    const k = testKey("hyperliquid", "acct");
    register(sim, "hyperliquid", k, { read: true, trade: true, withdraw: false });
    const file = join(dir, "hyperliquid-account.json");
    const mixed = `0x${k.apiKey.slice(2).toUpperCase()}`;
    const r = await cli(
      [
        "--exchange",
        "hyperliquid",
        "--url",
        sim.url("hyperliquid"),
        "--no-require-ip",
        "--record",
        file,
      ],
      { KEYWARDEN_API_KEY: mixed, KEYWARDEN_API_SECRET: k.secret },
    );
    expect(r.code).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text.toLowerCase()).not.toContain(k.apiKey.slice(2).toLowerCase());
    expect(text.toLowerCase()).not.toContain(k.canary.toLowerCase());
    const fixture = Fixture.parse(JSON.parse(text));
    expect(fixture.key).toEqual({ apiKey: RECORDED_ACCOUNT });
    expect(fixture.answers[0]?.body).toEqual({ role: "agent", data: { user: RECORDED_ACCOUNT } });
    const again = replay("hyperliquid", {
      exchange: "hyperliquid",
      name: "recorded",
      file,
      fixture,
    });
    expect(again.ok && [again.permissions.trade, again.permissions.withdraw]).toEqual([
      true,
      false,
    ]);
  });

  it("never overwrites an existing file", async () => {
    const k = testKey("binance", "ow");
    register(sim, "binance", k, { read: true, trade: true });
    const file = join(dir, "exists.json");
    writeFileSync(file, "keep");
    const r = await cli(["--exchange", "binance", "--url", sim.url("binance"), "--record", file], {
      KEYWARDEN_API_KEY: k.apiKey,
      KEYWARDEN_API_SECRET: k.secret,
    });
    expect(r.code).toBe(2);
    expect(readFileSync(file, "utf8")).toBe("keep");
  });

  it("redaction keeps permission values, replaces ids, names and addresses", () => {
    const out = redactValue(
      {
        uid: "44705892343619584",
        label: "my bot",
        perm: "read_only,trade",
        ip: "203.0.113.9,*",
        data: 62924133,
        createTime: 1591348751000,
      },
      [],
    );
    expect(out).toEqual({
      uid: "REDACTED",
      label: "REDACTED",
      perm: "read_only,trade",
      ip: "192.0.2.1,*",
      data: 1000001,
      createTime: 1591348751000,
    });
  });
});
