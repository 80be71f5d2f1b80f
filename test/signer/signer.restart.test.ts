import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { userChainId } from "../../src/audit/core/entry.js";
import { openKeywarden } from "../../src/embedded/index.js";
import { isKeywardenError } from "../../src/errors.js";
import { runAs } from "../../src/guard/context.js";
import { startExchangeSimulator } from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { createSignerServer, openFileCapabilityStore } from "../../src/signer/index.js";
import { createRemoteTrading } from "../../src/trading/remote/index.js";
import { createFileTradingState } from "../../src/trading/state.js";
import { canary, makeIdp } from "../vault/helpers.js";

/**
 * The signer in its own process, killed with SIGKILL while a bot is placing orders, then
 * restarted: the bot's client retries with the same client order ids, and the exchange simulator
 * (which outlives both) must show no duplicate and no order the audit log does not record.
 */
const root = resolve(__dirname, "../..");
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

function startSigner(dataDir: string, socketPath: string, simBase: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(__dirname, "fixtures/signer-process.ts"),
      dataDir,
      socketPath,
      simBase,
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  return new Promise((ok, fail) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) ok(child);
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code) => fail(new Error(`signer exited ${code}: ${err.slice(0, 500)}`)));
  });
}

describe("signer SIGKILL and restart under load", () => {
  it("no order is placed twice; every exchange order is audited; every request ends placed or refused", async () => {
    const sim = await startExchangeSimulator();
    const dataDir = mkdtempSync(join(tmpdir(), "kw-restart-"));
    const socketPath = join(dataDir, "signer.sock");
    const apiKey = `key-${canary()}`;
    const secret = canary();
    sim.setKey("binance", { apiKey, secret, permissions: { read: true, trade: true } });
    // Onboard and enrol in this process, then release the data directory to the signer process.
    const idp = await makeIdp();
    const alice = await idp.session("alice");
    const kw = await openKeywarden({ dataDir });
    const credentialId = (
      await kw.vault.store(alice, { exchange: "binance", credentials: { apiKey, secret } })
    ).credentialId;
    const enrolling = await createSignerServer({
      vault: kw.vault,
      audit: kw.audit,
      trading: kw.trading,
      state: createFileTradingState(join(dataDir, "killswitch")),
      capabilities: await openFileCapabilityStore(join(dataDir, "capabilities.json")),
      operator: { id: "ops", token: Secret.fromString("x") },
      listen: { socketPath: join(dataDir, "enrol.sock") },
    });
    const { capability } = await enrolling.enrol(alice, {
      botId: "bot-1",
      exchanges: ["binance"],
      actions: ["trade", "cancel", "read"],
      ttlMs: 3_600_000,
    });
    await enrolling.close();
    await kw.close();

    let signer = await startSigner(dataDir, socketPath, sim.baseUrl);
    const bot = createRemoteTrading({
      signer: { socketPath },
      capability,
      botId: "bot-1",
      retryForMs: 60_000,
      timeoutMs: 5_000,
    });
    const h = bot.handle(credentialId);
    const results: Array<
      { ok: true; id: string; clientOrderId: string } | { ok: false; code: string }
    > = [];
    let started = 0;
    const place = async () => {
      started++;
      try {
        const o = await h.createOrder("BTC/USDT", "limit", "buy", 0.001, 58000);
        results.push({ ok: true, id: String(o.id), clientOrderId: String(o.clientOrderId) });
      } catch (err) {
        results.push({ ok: false, code: isKeywardenError(err) ? err.code : String(err) });
      }
    };
    // Four bots' worth of concurrent orders, with the signer killed in the middle of them.
    await place(); // warm: the signer has loaded the exchange's markets
    const load = Array.from({ length: 39 }, (_, i) =>
      new Promise((r) => setTimeout(r, i * 15)).then(place),
    );
    await new Promise((r) => setTimeout(r, 250));
    signer.kill("SIGKILL");
    const inFlightAtKill = started - results.length;
    const doneAtKill = results.length;
    await new Promise((r) => signer.once("exit", r));
    signer = await startSigner(dataDir, socketPath, sim.baseUrl);
    await Promise.all(load);
    bot.close();
    signer.kill("SIGTERM");
    await new Promise((r) => signer.once("exit", r));

    expect(results).toHaveLength(40);
    // The kill really landed under load: some orders were done, some in flight, some not started.
    expect(doneAtKill).toBeGreaterThan(0);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(doneAtKill + inFlightAtKill).toBeLessThan(40);
    const placed = results.filter((r) => r.ok === true);
    const refused = results.filter((r) => r.ok === false);
    expect(placed.length).toBeGreaterThan(0);
    // Every refusal is a typed, final answer ("not sent"), never a silent unknown.
    for (const r of refused) expect(["ERR_SIGNER_ORDER_NOT_SENT"]).toContain(r.code);

    // What the exchange holds: one order per client order id, exactly the placed ones.
    const check = await openKeywarden({
      dataDir,
      exchangeTransport: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }),
    });
    const atExchange = await runAs(alice, () =>
      check.trading.handle(credentialId).fetchOpenOrders("BTC/USDT"),
    );
    const ids = atExchange.map((o) => String(o.clientOrderId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(sim.requests.count({ endpoint: "POST /api/v3/order", outcome: "ok" })).toBe(ids.length);
    expect(ids.sort()).toEqual(placed.map((p) => p.clientOrderId).sort());
    // Every order at the exchange has its write-ahead intent in the audit log.
    const intents = new Set<string>();
    for await (const e of check.audit.readEntries(userChainId("alice"))) {
      if ((JSON.parse(e.body) as { action: string }).action === "order.intent" && e.payload)
        intents.add(
          String(
            (JSON.parse(e.payload) as { value: { clientOrderId: string } }).value.clientOrderId,
          ),
        );
    }
    for (const id of ids) expect(intents.has(id)).toBe(true);
    await check.close();
    await sim.close();
  }, 120_000);
});
