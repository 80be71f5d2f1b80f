/**
 * The bot of `npm run demo -- --signer`: a separate process that holds no secret. It reads its
 * capability from stdin (never from the environment), trades through the signer's Unix socket,
 * writes a heap snapshot for the demo to search, and prints one JSON line per result.
 */
import { readFileSync } from "node:fs";
import { writeHeapSnapshot } from "node:v8";
import { isKeywardenError } from "keywarden";
import { createRemoteTrading } from "keywarden/trading/remote";

const [socketPath, credentialId, snapshotPath] = process.argv.slice(2) as [string, string, string];
const capability = readFileSync(0, "utf8").trim();
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

const trading = createRemoteTrading({ signer: { socketPath }, capability, botId: "demo-bot" });
const binance = trading.handle(credentialId);
const ticker = (await binance.fetchTicker("BTC/USDT")) as { last: number };
const price = Number((ticker.last * 0.97).toPrecision(5));
const order = await binance.createOrder("BTC/USDT", "limit", "buy", 0.001, price);
print({ step: "order", id: order.id, clientOrderId: order.clientOrderId, status: order.status });
await binance.cancelOrder(order.id, "BTC/USDT");
print({ step: "canceled", id: order.id });
try {
  await (binance as unknown as { withdraw: () => Promise<unknown> }).withdraw();
  print({ step: "withdraw", refused: false });
} catch (err) {
  print({ step: "withdraw", refused: isKeywardenError(err, "ERR_TRADING_METHOD_REFUSED") });
}
trading.close();
writeHeapSnapshot(snapshotPath);
print({ step: "snapshot", path: snapshotPath });
