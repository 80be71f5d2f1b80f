import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
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
function issue(name: string, ext: string, caName = "ca") {
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
    `${caName}.crt`,
    "-CAkey",
    `${caName}.key`,
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
let rogue: { key: Buffer; cert: Buffer };
let capability = "";
let capabilityB = "";
let cred = "";

const selfSignedCa = (name: string) =>
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
  );

beforeAll(async () => {
  selfSignedCa("ca");
  // A CA the signer does not trust, issuing a client certificate with the same name as bot-a's.
  selfSignedCa("rogue-ca");
  ca = readFileSync(join(dir, "ca.crt"));
  const srv = issue("signer", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  botA = issue("bot-a", "extendedKeyUsage=clientAuth\n");
  botB = issue("bot-b", "extendedKeyUsage=clientAuth\n");
  rogue = issue("bot-a-rogue", "extendedKeyUsage=clientAuth\n", "rogue-ca");
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
  // bot-b: its own valid certificate, bound to its own capability for the same user.
  capabilityB = (
    await server.enrol(alice, {
      botId: "bot-b",
      exchanges: ["binance"],
      actions: ["read"],
      ttlMs: 600_000,
      certFingerprint: certificateFingerprint(botB.cert),
    })
  ).capability;
});
afterAll(async () => {
  await server?.close();
  await sim?.close();
});

const client = (
  tls: { key: Buffer; cert: Buffer } | undefined,
  as: { capability: string; botId: string } = { capability, botId: "bot-a" },
) =>
  createRemoteTrading({
    signer: { host: "127.0.0.1", port, tls: { ...(tls ?? { key: "", cert: "" }), ca } },
    ...as,
    retryForMs: 0,
  }).handle(cred);

/**
 * One raw TLS 1.3 connection that asks for /healthz: `served <status line>` when the signer
 * answers, else the error code the client's TLS stack reports (the server's alert).
 */
const handshake = (tls: { key: Buffer; cert: Buffer } | undefined) =>
  new Promise<string>((resolve) => {
    const socket = connect(
      { host: "127.0.0.1", port, ca, minVersion: "TLSv1.3", ...(tls ?? {}) },
      () => socket.write("GET /healthz HTTP/1.1\r\nhost: signer\r\nconnection: close\r\n\r\n"),
    );
    socket.once("data", (d: Buffer) => {
      resolve(`served ${d.toString("latin1").split("\r\n")[0]}`);
      socket.destroy();
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    socket.once("close", () => resolve("closed"));
  });

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
    return "served";
  } catch (err) {
    const e = err as { code?: string; details?: { reason?: string } };
    return `${e.code} ${e.details?.reason ?? ""}`.trim();
  }
};

describe("loopback TCP with mutual TLS", () => {
  it("the bot with its bound certificate is served", async () => {
    expect(await client(botA).fetchBalance()).toBeTruthy();
    expect(await handshake(botA)).toBe("served HTTP/1.1 200 OK");
  });

  it("the same capability on another certificate from the same CA is refused", async () => {
    await expect(client(botB).fetchBalance()).rejects.toMatchObject({
      code: "ERR_GUARD_UNAUTHENTICATED",
    });
  });

  it("a valid certificate of another bot, bound to a different capability, is refused with either capability but its own", async () => {
    const b = { capability: capabilityB, botId: "bot-b" };
    // bot-b's own certificate and capability: served (so the refusals below are the binding).
    expect(await client(botB, b).fetchBalance()).toBeTruthy();
    // bot-a's certificate presenting bot-b's capability, and bot-b's presenting bot-a's.
    expect(await refusal(client(botA, b).fetchBalance())).toBe("ERR_GUARD_UNAUTHENTICATED");
    expect(await refusal(client(botB).fetchBalance())).toBe("ERR_GUARD_UNAUTHENTICATED");
    // bot-b's capability with bot-a's bot id on bot-b's certificate.
    expect(
      await refusal(client(botB, { capability: capabilityB, botId: "bot-a" }).fetchBalance()),
    ).toBe("ERR_GUARD_UNAUTHENTICATED");
  });

  it("a connection without a client certificate is refused in the TLS 1.3 handshake (alert certificate_required)", async () => {
    expect(await handshake(undefined)).toBe("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
    // The remote client reports it typed, with the handshake failure as the reason.
    expect(await refusal(client(undefined).fetchBalance())).toBe(
      "ERR_SIGNER_UNAVAILABLE ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
    );
  });

  it("a client certificate not issued by the configured CA is refused right after the handshake (no HTTP byte answered)", async () => {
    // The premise: the rogue certificate does not verify against the signer's CA; bot-a's does.
    const caKey = new X509Certificate(ca).publicKey;
    expect(new X509Certificate(rogue.cert).verify(caKey)).toBe(false);
    expect(new X509Certificate(botA.cert).verify(caKey)).toBe(true);
    // Node's TLS server verifies the chain after the TLS 1.3 handshake and destroys the socket
    // (rejectUnauthorized) without an alert: the request is never read, nothing is answered.
    expect(await handshake(rogue)).toBe("closed");
    // The remote client reports it typed: the signer hung up.
    expect(await refusal(client(rogue).fetchBalance())).toBe("ERR_SIGNER_UNAVAILABLE ECONNRESET");
  });
});
