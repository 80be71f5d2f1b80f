/** The bench's exchange simulator, alone in its process (forked by bench/signer-latency.ts). */
import { startExchangeSimulator } from "../../src/permissions/testing/index.js";
import { BENCH_KEY, serveCommands } from "./world.js";

const sim = await startExchangeSimulator();
sim.setKey("binance", {
  ...BENCH_KEY,
  permissions: { read: true, trade: true },
  balances: { USDT: "1000000000", BTC: "1000" },
});
serveCommands({
  orders: () => sim.requests.count({ exchange: "binance", endpoint: "POST /api/v3/order" }),
  close: async () => {
    await sim.close();
    setImmediate(() => process.exit(0));
  },
});
process.send?.({ type: "ready", info: { baseUrl: sim.baseUrl, pid: process.pid } });
