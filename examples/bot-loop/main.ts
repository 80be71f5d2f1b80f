/**
 * Example: a bot loop. A user onboards a key and grants the bot a trading grant; the bot then runs
 * a small grid strategy through the trading handle — it never holds a key, cannot withdraw, and
 * stops cleanly when the user's kill switch fires. Runs against the bundled exchange simulator:
 * `npx tsx examples/bot-loop/main.ts`.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, SignJWT } from "jose";
import { isKeywardenError, Secret } from "keywarden";
import { openKeywarden } from "keywarden/embedded";
import { createSessionVerifier, type Identity, runAs } from "keywarden/guard";
import { startExchangeSimulator } from "keywarden/permissions/testing";

const log = (line: string) => process.stdout.write(`${line}\n`);

/** The platform's login, standing in for your identity provider. */
async function loginAs(userId: string): Promise<Identity> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const verifier = createSessionVerifier({
    issuer: "https://login.example/",
    audience: "bot",
    algorithms: ["ES256"],
    key: publicKey,
  });
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer("https://login.example/")
    .setAudience("bot")
    .setSubject(userId)
    .setJti(randomBytes(6).toString("hex"))
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(privateKey);
  return verifier.verify(token);
}

/** One tick of a tiny grid strategy: keep one resting buy 1 % and 2 % under the last price. */
async function tick(
  trading: Awaited<ReturnType<typeof openKeywarden>>["trading"],
  credentialId: string,
) {
  const binance = trading.handle(credentialId);
  const { last } = (await binance.fetchTicker("BTC/USDT")) as { last: number };
  const open = await binance.fetchOpenOrders("BTC/USDT");
  if (open.length >= 2) {
    const oldest = open[0];
    if (oldest) await binance.cancelOrder(oldest.id, "BTC/USDT");
  }
  for (const step of [0.99, 0.98]) {
    const price = Number((last * step).toFixed(2));
    if (!open.some((o) => o.price === price))
      await binance.createOrder("BTC/USDT", "limit", "buy", 0.001, price);
  }
  return { last, open: open.length };
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "kw-bot-"));
  const sim = await startExchangeSimulator();
  try {
    sim.setKey("binance", {
      apiKey: "bot-key",
      secret: "bot-secret",
      permissions: { read: true, trade: true, ipRestricted: true },
    });
    const kw = await openKeywarden({
      dataDir,
      exchangeTransport: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }),
      risk: { symbols: ["BTC/USDT"], maxNotional: "500", priceBand: 0.05, maxOpenOrders: 4 },
    });

    // The user, logged in: onboard the key and grant the bot (trade, cancel, read) for one day.
    const alice = await loginAs("alice");
    const { credentialId } = await kw.onboardKey(alice, "binance", {
      apiKey: "bot-key",
      secret: Secret.fromString("bot-secret"),
    });
    const { grant } = await kw.vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade", "cancel", "read"],
      ttlMs: 86_400_000,
    });

    // The bot: every call runs as the grant. It never sees the key.
    for (let i = 1; i <= 5; i++) {
      if (i === 4) {
        await runAs(alice, () => kw.trading.fireKillSwitch("alice", "user pressed stop"));
        log("user fired the kill switch");
      }
      try {
        const { last, open } = await runAs(grant, () => tick(kw.trading, credentialId));
        log(`tick ${i}: last ${last}, ${open} open before the tick`);
      } catch (err) {
        if (isKeywardenError(err, "ERR_TRADING_KILL_SWITCH_ACTIVE")) {
          log(`tick ${i}: kill switch active, bot stops`);
          break;
        }
        throw err;
      }
    }
    const open = await runAs(grant, () =>
      kw.trading.handle(credentialId).fetchOpenOrders("BTC/USDT"),
    );
    log(`open orders after the kill switch: ${open.length}`);
    await kw.close();
  } finally {
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
