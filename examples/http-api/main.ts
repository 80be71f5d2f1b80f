/**
 * Example: an HTTP API whose handlers go through the guard. Each request's bearer token is
 * verified into an identity, and the handler runs as that identity (`runAs`): the guard-registered
 * handlers (`vaultHandlers`, `auditHandlers`, the trading client) check ownership themselves, so a
 * route cannot forget to. Another user's resource is a 404, exactly like a missing one.
 *
 * Run: `npx tsx examples/http-api/main.ts` — starts the server on 127.0.0.1, calls it as two users,
 * prints what each got, and exits.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, SignJWT } from "jose";
import { isKeywardenError, Secret } from "keywarden";
import { auditHandlers } from "keywarden/audit";
import { openKeywarden } from "keywarden/embedded";
import { createSessionVerifier, runAs } from "keywarden/guard";
import { startExchangeSimulator } from "keywarden/permissions/testing";
import { vaultHandlers } from "keywarden/vault";

const ISSUER = "https://login.example/";
const { privateKey, publicKey } = await generateKeyPair("ES256");
const sessions = createSessionVerifier({
  issuer: ISSUER,
  audience: "api",
  algorithms: ["ES256"],
  key: publicKey,
});
const tokenFor = (userId: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer(ISSUER)
    .setAudience("api")
    .setSubject(userId)
    .setJti(randomBytes(6).toString("hex"))
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(privateKey);

/** keywarden's stable error codes mapped to HTTP. Messages are safe to return as they are. */
function statusOf(err: unknown): number {
  if (!isKeywardenError(err)) return 500;
  if (err.code === "ERR_GUARD_NOT_FOUND" || err.code === "ERR_VAULT_CREDENTIAL_NOT_FOUND")
    return 404;
  if (err.code === "ERR_GUARD_UNAUTHENTICATED" || err.code === "ERR_GUARD_SESSION_INVALID")
    return 401;
  if (err.code === "ERR_INVALID_ARGUMENT") return 400;
  if (err.code.startsWith("ERR_TRADING_") || err.code.startsWith("ERR_VAULT_")) return 409;
  return 500;
}

async function body(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65_536) throw new Error("body too large");
  }
  return text ? JSON.parse(text) : {};
}

const dataDir = await mkdtemp(join(tmpdir(), "kw-http-"));
const sim = await startExchangeSimulator();
const kw = await openKeywarden({
  dataDir,
  exchangeTransport: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }),
});
const vault = vaultHandlers(kw.vault);
const audit = auditHandlers(kw.audit);

/** The routes. None of them checks ownership itself: the guard-registered handlers do. */
async function route(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const auth = req.headers.authorization ?? "";
  const identity = await sessions.verify(auth.startsWith("Bearer ") ? auth.slice(7) : "");
  const order = url.pathname.match(/^\/credentials\/([^/]+)\/orders$/);
  const chain = url.pathname.match(/^\/audit\/([^/]+)$/);
  return runAs(identity, async () => {
    if (req.method === "GET" && url.pathname === "/credentials") return vault.list();
    if (req.method === "POST" && order) {
      return kw.trading.createOrder(
        decodeURIComponent(order[1] as string),
        (await body(req)) as never,
      );
    }
    if (req.method === "GET" && chain) {
      res.setHeader("content-type", "application/x-ndjson");
      return audit.exportChain(decodeURIComponent(chain[1] as string), { format: "jsonl" });
    }
    if (req.method === "POST" && url.pathname === "/killswitch") {
      return kw.trading.fireKillSwitch(identity.userId, "fired from the API");
    }
    throw Object.assign(new Error("no such route"), { status: 404 });
  });
}

const server = createServer((req, res) => {
  route(req, res).then(
    (result) => {
      res.statusCode = 200;
      res.end(typeof result === "string" ? result : JSON.stringify(result));
    },
    (err: unknown) => {
      res.statusCode = (err as { status?: number }).status ?? statusOf(err);
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify(
          isKeywardenError(err) ? { code: err.code, message: err.message } : { message: "error" },
        ),
      );
    },
  );
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

try {
  // Two users onboard their keys (in a real API: through a route like any other).
  const creds: Record<string, string> = {};
  for (const user of ["alice", "bob"]) {
    sim.setKey("binance", {
      apiKey: `${user}-key`,
      secret: `${user}-secret`,
      permissions: { read: true, trade: true, ipRestricted: true },
    });
    const session = await sessions.verify(await tokenFor(user));
    creds[user] = (
      await kw.onboardKey(session, "binance", {
        apiKey: `${user}-key`,
        secret: Secret.fromString(`${user}-secret`),
      })
    ).credentialId;
  }
  const call = async (user: string | null, method: string, path: string, payload?: unknown) => {
    const headers: Record<string, string> = user
      ? { authorization: `Bearer ${await tokenFor(user)}` }
      : {};
    const r = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(payload ? { body: JSON.stringify(payload) } : {}),
    });
    const text = await r.text();
    process.stdout.write(
      `${(user ?? "anonymous").padEnd(9)} ${method.padEnd(4)} ${path.padEnd(44)} → ${r.status} ${text.slice(0, 70)}\n`,
    );
    return r.status;
  };
  const order = { symbol: "BTC/USDT", type: "limit", side: "buy", amount: 0.001, price: 59_000 };
  const results = [
    await call("alice", "GET", "/credentials"),
    await call("alice", "POST", `/credentials/${creds.alice}/orders`, order),
    await call("alice", "POST", `/credentials/${creds.bob}/orders`, order),
    await call("alice", "GET", "/audit/user:bob"),
    await call("alice", "GET", "/audit/user:nobody"),
    await call("alice", "GET", "/audit/user:alice"),
    await call(null, "GET", "/credentials"),
    await call("bob", "POST", "/killswitch"),
  ];
  const expected = [200, 200, 404, 404, 404, 200, 401, 200];
  if (results.join() !== expected.join())
    throw new Error(`unexpected statuses ${results.join()} (expected ${expected.join()})`);
  process.stdout.write(
    "every route answered as expected: another user's resource is a 404, like a missing one\n",
  );
} finally {
  server.close();
  await kw.close();
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
}
