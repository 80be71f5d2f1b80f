import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { installedCcxtVersion, TESTED_CCXT_VERSION } from "../../src/permissions/ccxt.js";

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, "fixtures", "load-one-exchange.mts");

async function loadedFor(exchange: string) {
  const dir = mkdtempSync(join(tmpdir(), "kw-load-"));
  const log = join(dir, "loaded.txt");
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", SCRIPT, exchange], {
      cwd: join(import.meta.dirname, "..", ".."),
      env: { ...process.env, KW_LOAD_LOG: log },
      timeout: 60_000,
    });
    const urls = readFileSync(log, "utf8").split("\n").filter(Boolean);
    const ccxt = urls.filter((u) => u.includes("/node_modules/ccxt/"));
    const exchanges = new Set(
      ccxt
        .map((u) => /\/ccxt\/js\/src\/([a-z0-9]+)\.js$/.exec(u)?.[1])
        .filter((x) => x !== undefined),
    );
    return { result: JSON.parse(stdout) as { ok: boolean; requests: number }, ccxt, exchanges };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the ccxt binding loads one exchange module only", () => {
  it("binance: only js/src/binance.js of the 100+ exchange modules, never the ccxt.js barrel", async () => {
    const { result, ccxt, exchanges } = await loadedFor("binance");
    expect(result).toEqual({ ok: true, requests: 1 });
    expect([...exchanges]).toEqual(["binance"]);
    expect(ccxt.some((u) => u.endsWith("/ccxt/js/ccxt.js"))).toBe(false);
    expect(ccxt.some((u) => u.includes("/dist/"))).toBe(false);
  });
  it("binanceusdm: its module and the binance parent class only", async () => {
    const { exchanges } = await loadedFor("binanceusdm");
    expect([...exchanges].sort()).toEqual(["binance", "binanceusdm"]);
  });
  it("the pure entry keywarden/permissions never loads ccxt", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-load-"));
    const log = join(dir, "loaded.txt");
    try {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", join(import.meta.dirname, "fixtures", "load-index.mts")],
        {
          cwd: join(import.meta.dirname, "..", ".."),
          env: { ...process.env, KW_LOAD_LOG: log },
          timeout: 60_000,
        },
      );
      expect(Number(stdout)).toBeGreaterThan(10);
      const urls = readFileSync(log, "utf8").split("\n").filter(Boolean);
      expect(urls.some((u) => u.includes("/src/permissions/index"))).toBe(true);
      expect(
        urls.filter((u) => u.includes("/node_modules/ccxt/") || u.includes("/permissions/ccxt.")),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("the installed ccxt is the version whose module layout was tested", () => {
    expect(installedCcxtVersion()).toBe(TESTED_CCXT_VERSION);
  });
});
