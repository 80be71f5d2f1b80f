/**
 * Runs one hot path in a loop for CPU profiling (issue 21). Usage:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/kw-prof --import tsx bench/profile/run.ts <target> [seconds]
 *   npx tsx bench/profile/top-frames.ts /tmp/kw-prof/<file>.cpuprofile
 *
 * Targets: verify-stored, verify-export, append-awaited, append-group, append-merkle,
 * vault-seal-open, vault-open, trading-order, trading-stages. Each builds its inputs first (outside the timed
 * loop; setup is a small part of a 5-second profile).
 */
import { randomBytes } from "node:crypto";
import { jsonlEntryLine, jsonlManifestLine } from "../../src/audit/export/jsonl.js";
import {
  AuditLog,
  ChainVerifier,
  createMemoryAuditStore,
  type StoredEntry,
  sha256Node,
  userChainId,
  verifyExport,
} from "../../src/audit/index.js";
import { TransparencyLog } from "../../src/audit/transparency/log.js";
import { LocalEd25519Signer } from "../../src/audit/transparency/signer.js";
import { hostIdentity, runAs } from "../../src/guard/index.js";
import { Secret } from "../../src/secret.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { decodeFields, encodeFields, wipeFields } from "../../src/vault/core/credential-fields.js";
import { createVault } from "../../src/vault/core/vault.js";
import { BLOB_KIND, openBlob, sealBlob } from "../../src/vault/format/envelope.js";
import { LocalKms } from "../../src/vault/kms/local.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { makeIdp } from "../../test/vault/helpers.js";

const N = 2000;
const chainId = userChainId("bench");
const actor = hostIdentity("bench");
const input = (i: number) => ({
  action: "order.placed",
  payload: {
    exchange: "binance",
    symbol: "BTC/USDT",
    side: "buy",
    type: "limit",
    amount: `0.${i + 1}`,
    price: "64250.10",
  },
  actor,
});

async function auditFixture(): Promise<{ entries: StoredEntry[]; jsonl: Buffer[] }> {
  const store = createMemoryAuditStore();
  await runAs(actor, () =>
    new AuditLog({ store }).appendEntries(
      chainId,
      Array.from({ length: N }, (_, i) => input(i)),
    ),
  );
  const entries: StoredEntry[] = [];
  for await (const e of store.read(chainId, 0)) entries.push(e);
  const h = await store.head(chainId);
  const bytes = Buffer.from(
    jsonlManifestLine({
      v: 1,
      format: "keywarden.audit.export",
      chainId,
      size: h.size,
      headHash: h.headHash,
    }) + entries.map(jsonlEntryLine).join(""),
  );
  const jsonl: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 65536) jsonl.push(bytes.subarray(at, at + 65536));
  return { entries, jsonl };
}

type Loop = () => Promise<unknown> | unknown;

const targets: Record<string, () => Promise<Loop>> = {
  "verify-stored": async () => {
    const { entries } = await auditFixture();
    return () => {
      const v = new ChainVerifier({ sha256: sha256Node, chainId });
      for (const e of entries) if (v.push(e)) throw new Error("broken");
      if (!v.finish().ok) throw new Error("broken");
    };
  },
  "verify-export": async () => {
    const { jsonl } = await auditFixture();
    return async () => {
      if (!(await verifyExport(jsonl, { format: "jsonl", sha256: sha256Node })).ok)
        throw new Error("broken");
    };
  },
  "append-awaited": async () => {
    const inputs = Array.from({ length: N }, (_, i) => input(i));
    return async () => {
      const log = new AuditLog({ store: createMemoryAuditStore() });
      await runAs(actor, async () => {
        for (const one of inputs) await log.appendEntry(chainId, one);
      });
    };
  },
  "append-group": async () => {
    const inputs = Array.from({ length: N }, (_, i) => input(i));
    return async () => {
      const log = new AuditLog({ store: createMemoryAuditStore() });
      await runAs(actor, () => Promise.all(inputs.map((one) => log.appendEntry(chainId, one))));
    };
  },
  "append-merkle": async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => input(i));
    const { signer } = LocalEd25519Signer.generate("bench.example.com");
    return async () => {
      const store = createMemoryAuditStore();
      const t = new TransparencyLog({ store, signer, logName: "bench.example.com" });
      const log = new AuditLog({ store, treeNodes: t.treeNodes });
      await runAs(actor, async () => {
        for (const one of inputs) await log.appendEntry(chainId, one);
      });
    };
  },
  "vault-seal-open": async () => {
    const userId = "user-7f3a9c2e-4b1d-4e8a-9c3f-1a2b3c4d5e6f-x";
    const kms = new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
    const auth = {
      kind: "session",
      userId,
      sessionId: "s",
      token: Secret.fromString("t"),
      expiresAt: undefined,
    } as const;
    const kctx = { userId, purpose: "exchange-api-secret" } as const;
    const ctx = { userId, exchange: "binance", credentialId: "cred_abcdefghijklmnop", revision: 1 };
    const secret64 = new Uint8Array(randomBytes(64));
    const { wrapped } = await kms.generateDataKey(kctx, auth);
    return async () => {
      for (let i = 0; i < 200; i++) {
        const dk = await kms.decrypt(wrapped, kctx, auth);
        const plain = encodeFields({ secret: secret64 });
        const blob = dk.use((k) => sealBlob(k, BLOB_KIND.credential, ctx, plain));
        plain.fill(0);
        dk.wipe();
        const dk2 = await kms.decrypt(wrapped, kctx, auth);
        const opened = dk2.use((k) => openBlob(k, BLOB_KIND.credential, ctx, blob));
        dk2.wipe();
        const creds = decodeFields(opened);
        opened.fill(0);
        wipeFields(creds);
      }
    };
  },
  "vault-open": async () => {
    const idp = await makeIdp();
    const vault = createVault({
      kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
      store: new MemoryCredentialStore(),
    });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey: "k", secret: "s" },
    });
    return async () => {
      for (let i = 0; i < 200; i++) await vault.withCredentials(alice, credentialId, () => 1);
    };
  },
  "trading-order": async () => {
    const { createTradingClient } = await import("../../src/trading/client.js");
    const idp = await makeIdp();
    const vault = createVault({
      kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
      store: new MemoryCredentialStore(),
    });
    const markets = { "BTC/USDT": { id: "BTCUSDT", symbol: "BTC/USDT" } };
    let next = 0;
    const client = createTradingClient({
      vault,
      audit: new AuditLog({ store: createMemoryAuditStore() }),
      state: createMemoryTradingState(),
      risk: { symbols: ["BTC/USDT"], maxNotional: "1000000", priceBand: 0.5 },
      exchanges: () =>
        ({
          markets,
          loadMarkets: async () => markets,
          fetchTicker: async (symbol: string) => ({ symbol, last: 50_000 }),
          createOrder: async (symbol: string, type: string, side: string, amount: number) => ({
            id: String(++next),
            symbol,
            type,
            side,
            amount,
            status: "open",
          }),
        }) as never,
    });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey: "k", secret: "s" },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 3_600_000,
    });
    const h = client.handle(credentialId);
    return async () => {
      for (let i = 0; i < 200; i++)
        await runAs(grant, () =>
          h.createOrder("BTC/USDT", "limit", "buy", 0.001, 50_000 + (i % 100)),
        );
    };
  },
  "trading-stages": async () => {
    const idp = await makeIdp();
    const vault = createVault({
      kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
      store: new MemoryCredentialStore(),
    });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const state = createMemoryTradingState();
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { apiKey: "k", secret: "s" },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 3_600_000,
    });
    const host = hostIdentity("alice");
    const payload = {
      exchange: "binance",
      symbol: "BTC/USDT",
      side: "buy",
      type: "limit",
      amount: "0.001",
      price: "50000",
      clientOrderId: "kw1",
    };
    return async () => {
      for (let i = 0; i < 200; i++) {
        await vault.list(grant);
        await state.get("alice");
        await runAs(host, () =>
          audit.appendEntry("user:alice", { action: "order.intent", payload }),
        );
        await vault.withCredentials(grant, credentialId, async () => 1, { action: "trade" });
        await runAs(host, () =>
          audit.appendEntry("user:alice", {
            action: "order.placed",
            payload: { ...payload, orderId: "1" },
          }),
        );
      }
    };
  },
};

const name = process.argv[2] ?? "";
const make = targets[name];
if (!make) {
  process.stderr.write(`target must be one of: ${Object.keys(targets).join(", ")}\n`);
  process.exit(2);
}
const seconds = Number(process.argv[3] ?? 5);
const loop = await make();
for (let i = 0; i < 5; i++) await loop();
/** The timed loop. */
async function loopMarker(): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    await loop();
    n++;
  }
  return n;
}
const iterations = await loopMarker();
process.stderr.write(`${name}: ${iterations} iterations in ${seconds} s\n`);
