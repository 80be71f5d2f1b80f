/**
 * The bench's signer, alone in its process (forked by bench/signer-latency.ts): the vault, the
 * audit log and the trading client against the simulator, behind `createSignerServer` on a Unix
 * socket, with `bots` enrolled bot capabilities handed back to the orchestrator.
 *
 * argv: <simulator base URL> <socket path> <bots> <log: info|warn|off> <log file>
 */
import { createWriteStream } from "node:fs";
import { Secret } from "../../src/secret.js";
import { createMemoryCapabilityStore } from "../../src/signer/capabilities.js";
import { createSignerServer } from "../../src/signer/http.js";
import { serveCommands, tradingWorld } from "./world.js";

const [simBaseUrl, socketPath, botsArg, logLevel, logFile] = process.argv.slice(2) as string[];
const w = await tradingWorld(simBaseUrl as string);
const log = logLevel === "off" ? undefined : createWriteStream(logFile as string, { flags: "a" });
const server = await createSignerServer({
  vault: w.vault,
  audit: w.audit,
  trading: w.trading,
  state: w.state,
  capabilities: createMemoryCapabilityStore(),
  operator: { id: "ops", token: Secret.fromString("bench-operator-token") },
  // The bench measures latency, not the limiter: limits far above the offered rate.
  limits: { perBot: { perSecond: 1e6, burst: 1e6 }, perUser: { perSecond: 1e6, burst: 1e6 } },
  listen: { socketPath: socketPath as string },
  ...(log ? { log, logLevel: logLevel as "info" | "warn" } : {}),
});
const bots: { botId: string; capability: string }[] = [];
for (let b = 0; b < Number(botsArg); b++) {
  const botId = `bench-${b}`;
  const e = await server.enrol(w.alice, {
    botId,
    exchanges: ["binance"],
    actions: ["trade", "cancel", "read"],
    ttlMs: 3_600_000,
  });
  bots.push({ botId, capability: e.capability });
}
serveCommands({
  close: async () => {
    await server.close();
    log?.end();
    setImmediate(() => process.exit(0));
  },
});
process.send?.({
  type: "ready",
  info: { pid: process.pid, credentialId: w.credentialId, bots },
});
