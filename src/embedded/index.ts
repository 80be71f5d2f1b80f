/**
 * `keywarden/embedded`: every module wired together on embedded defaults — a LocalKms master key
 * file, a file credential store, a JSON Lines audit log and a file kill-switch state under one data
 * directory — for a single-host bot, a demo, or a first afternoon with keywarden. Production
 * deployments swap the pieces (AWS KMS, PostgreSQL stores) by assembling the modules themselves;
 * this file shows how.
 *
 * @packageDocumentation
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { AuditLog, auditSink } from "../audit/core/index.js";
import { openFileAuditStore } from "../audit/storage/file/index.js";
import { KeywardenError } from "../errors.js";
import { runAs } from "../guard/context.js";
import type { Identity } from "../guard/identity.js";
import { createCcxtDetector, type FetchLike } from "../permissions/ccxt.js";
import type { DetectFn } from "../permissions/detect.js";
import type { ExchangeCredentials, ExchangeId, PermissionPolicy } from "../permissions/index.js";
import { onboardKey } from "../permissions/onboard.js";
import { ccxtExchangeFactory } from "../trading/ccxt.js";
import { createTradingClient, type TradingClient } from "../trading/client.js";
import type { RiskLimits } from "../trading/risk.js";
import { createFileTradingState } from "../trading/state.js";
import { createVault, type Vault } from "../vault/core/index.js";
import { createMasterKeyFile, LocalKms } from "../vault/kms/index.js";
import { FileCredentialStore } from "../vault/stores/index.js";

/** Options of {@link openKeywarden}. */
export interface EmbeddedOptions {
  /** Directory for everything keywarden keeps (created 0700). Back it up; it holds the master key. */
  readonly dataDir: string;
  /**
   * Where ccxt sends requests, per exchange: extra constructor options such as the exchange
   * simulator's transport (`sim.ccxtOptions(id)`). Omit for the real exchanges.
   */
  readonly exchangeTransport?: (exchange: string) => Record<string, unknown> | undefined;
  /** The acceptance policy for onboarding (default: withdraw never, IP restriction required). */
  readonly permissionPolicy?: PermissionPolicy;
  /** Use the exchanges' testnets (ccxt sandbox mode) for detection and trading. */
  readonly sandbox?: boolean;
  /** Risk limits per user. */
  readonly risk?: RiskLimits | ((userId: string) => RiskLimits | undefined);
}

/** An open embedded keywarden. */
export interface Keywarden {
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly trading: TradingClient;
  /**
   * Onboards a key for the session's own user: reads its permissions on the exchange first, and
   * stores it only when the policy accepts it. A key that can withdraw is refused, wiped, and only
   * a `key.rejected` entry is written.
   *
   * @throws {KeywardenError} `ERR_PERMISSIONS_*` for a refused key; `ERR_GUARD_UNAUTHENTICATED`
   * unless `session` is a live session identity.
   */
  onboardKey(
    session: Identity,
    exchange: ExchangeId,
    credentials: ExchangeCredentials,
  ): Promise<{ credentialId: string }>;
  /** Releases the audit log's file lock. */
  close(): Promise<void>;
}

/**
 * Opens (creating on first use) an embedded keywarden under `dataDir`.
 *
 * @example
 * ```ts
 * const kw = await openKeywarden({ dataDir: "/var/lib/mybot/keywarden" });
 * const { credentialId } = await kw.onboardKey(session, "binance", { apiKey, secret });
 * const { grant } = await kw.vault.createGrant(session, { exchanges: ["binance"], actions: ["trade", "cancel", "read"], ttlMs: 86_400_000 });
 * await runAs(grant, () => kw.trading.handle(credentialId).createOrder("BTC/USDT", "limit", "buy", 0.01, 60000));
 * ```
 * @throws {KeywardenError} `ERR_KMS_MASTER_KEY` for an unreadable or group/world-readable master
 * key file; `ERR_AUDIT_STORE_LOCKED` when another process has the audit log open.
 */
export async function openKeywarden(options: EmbeddedOptions): Promise<Keywarden> {
  const dir = options.dataDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, "master.key");
  if (!existsSync(keyFile)) createMasterKeyFile(keyFile);
  const kms = LocalKms.fromKeyFile(keyFile);
  const auditStore = await openFileAuditStore(join(dir, "audit.jsonl"));
  const audit = new AuditLog({ store: auditStore });
  const sink = auditSink(audit);
  const vault = createVault({
    kms,
    store: await FileCredentialStore.open(join(dir, "credentials")),
    audit: sink,
  });
  const transport = options.exchangeTransport;
  const detectors = new Map<string, DetectFn>();
  const detect: DetectFn = (request) => {
    let d = detectors.get(request.exchange);
    if (!d) {
      const fetchImplementation = transport?.(request.exchange)?.fetchImplementation;
      d = createCcxtDetector(
        typeof fetchImplementation === "function"
          ? { fetchImplementation: fetchImplementation as FetchLike }
          : {},
      );
      detectors.set(request.exchange, d);
    }
    return d(request);
  };
  const trading = createTradingClient({
    vault,
    audit,
    state: createFileTradingState(join(dir, "killswitch")),
    exchanges: ccxtExchangeFactory({
      ...(transport ? { config: transport } : {}),
      ...(options.sandbox ? { sandbox: true } : {}),
    }),
    risk: options.risk,
  });

  return {
    vault,
    audit,
    trading,
    onboardKey(session, exchange, credentials) {
      /* Precondition: a key is onboarded only for the live session's own user. */
      if (session?.kind !== "session") {
        throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
      }
      return runAs(session, () =>
        onboardKey(
          {
            userId: session.userId,
            exchange,
            credentials,
            ...(options.permissionPolicy ? { policy: options.permissionPolicy } : {}),
          },
          {
            detect,
            storeCredential: async (_userId, ex, creds) =>
              vault.store(session, {
                exchange: ex,
                credentials: {
                  apiKey: creds.apiKey,
                  secret: creds.secret,
                  ...(creds.password ? { passphrase: creds.password } : {}),
                  ...(creds.uid ? { uid: creds.uid } : {}),
                },
              }),
            audit: {
              append: (chain, action, payload) => sink.append(chain, action, payload, session),
            },
          },
        ),
      );
    },
    async close() {
      await auditStore.close?.();
    },
  };
}

export { emergencyRevokeEmbedded } from "./emergency.js";
