import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { startExchangeSimulator } from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import {
  certificateFingerprint,
  createMemoryCapabilityStore,
  createSignerServer,
  type SignerServer,
} from "../../src/signer/index.js";
import { ccxtExchangeFactory } from "../../src/trading/ccxt.js";
import { createTradingClient } from "../../src/trading/client.js";
import { createRemoteTrading } from "../../src/trading/remote/index.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { canary, localKms, makeIdp } from "../vault/helpers.js";

/** Loopback TCP with mutual TLS: certificates made by openssl, the capability bound to one. */
const dir = mkdtempSync(join(tmpdir(), "kw-mtls-"));
const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
function issue(name: string, ext: string) {
  ssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  );
  writeFileSync(join(dir, `${name}.ext`), ext);
  ssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    `${name}.crt`,
    "-extfile",
    `${name}.ext`,
  );
  return {
    key: readFileSync(join(dir, `${name}.key`)),
    cert: readFileSync(join(dir, `${name}.crt`)),
  };
}

let server: SignerServer;
let sim: Awaited<ReturnType<typeof startExchangeSimulator>>;
let port = 0;
let ca: Buffer;
let botA: { key: Buffer; cert: Buffer };
let botB: { key: Buffer; cert: Buffer };
let capability = "";
let cred = "";

beforeAll(async () => {
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
  );
  ca = readFileSync(join(dir, "ca.crt"));
  const srv = issue("signer", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  botA = issue("bot-a", "extendedKeyUsage=clientAuth\n");
  botB = issue("bot-b", "extendedKeyUsage=clientAuth\n");
  sim = await startExchangeSimulator();
  const apiKey = `key-${canary()}`;
  const secret = canary();
  sim.setKey("binance", { apiKey, secret, permissions: { read: true, trade: true } });
  const idp = await makeIdp();
  const alice = await idp.session("alice");
  const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
  const audit = new AuditLog({ store: createMemoryAuditStore() });
  const state = createMemoryTradingState();
  cred = (await vault.store(alice, { exchange: "binance", credentials: { apiKey, secret } }))
    .credentialId;
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    port = 20_000 + Math.floor(Math.random() * 20_000);
    try {
      server = await createSignerServer({
        vault,
        audit,
        state,
        trading: createTradingClient({
          vault,
          audit,
          state,
          exchanges: ccxtExchangeFactory({
            config: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }),
          }),
        }),
        capabilities: createMemoryCapabilityStore(),
        operator: { id: "ops", token: Secret.fromString("op") },
        listen: { host: "127.0.0.1", port, tls: { ...srv, ca } },
      });
    } catch {
      // port taken: try another
    }
  }
  capability = (
    await server.enrol(alice, {
      botId: "bot-a",
      exchanges: ["binance"],
      actions: ["read"],
      ttlMs: 600_000,
      certFingerprint: certificateFingerprint(botA.cert),
    })
  ).capability;
});
afterAll(async () => {
  await server?.close();
  await sim?.close();
});

const client = (tls: { key: Buffer; cert: Buffer } | undefined) =>
  createRemoteTrading({
    signer: { host: "127.0.0.1", port, tls: { ...(tls ?? { key: "", cert: "" }), ca } },
    capability,
    botId: "bot-a",
    retryForMs: 0,
  }).handle(cred);

describe("loopback TCP with mutual TLS", () => {
  it("the bot with its bound certificate is served", async () => {
    expect(await client(botA).fetchBalance()).toBeTruthy();
  });

  it("the same capability on another certificate from the same CA is refused", async () => {
    await expect(client(botB).fetchBalance()).rejects.toMatchObject({
      code: "ERR_GUARD_UNAUTHENTICATED",
    });
  });

  it("a connection without a client certificate does not get through the handshake", async () => {
    await expect(client(undefined).fetchBalance()).rejects.toBeTruthy();
  });
});
