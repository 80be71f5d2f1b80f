/**
 * Public types of the exchange simulator (`keywarden/permissions/testing`).
 *
 * @packageDocumentation
 */
import type { ExchangeId } from "../types.js";

/**
 * Every exchange the simulator can play, by its ccxt id.
 *
 * @example
 * ```ts
 * for (const id of SIMULATED_EXCHANGES) sim.setKey(id, { apiKey: `${id}-k`, secret: "s", passphrase: "p" });
 * ```
 */
export const SIMULATED_EXCHANGES = [
  "binance",
  "binanceusdm",
  "bybit",
  "okx",
  "kucoin",
  "coinbase",
  "kraken",
  "bitget",
  "bitfinex",
  "gemini",
  "bingx",
  "htx",
  "gate",
  "deribit",
  "cryptocom",
  "mexc",
  "bitstamp",
  // Exchanges added in Permissions v2 that have a simulator: append here.
  "woo",
  "lbank",
  "hyperliquid",
] as const satisfies readonly ExchangeId[];

/** A ccxt exchange id the simulator serves. */
export type SimulatedExchangeId = (typeof SIMULATED_EXCHANGES)[number];

/**
 * What a registered test key may do, as the exchange would report it. Each exchange maps these
 * flags onto its own documented response shape (see `docs/permissions-simulator.md`).
 */
export interface SimulatedPermissions {
  /** The key can read balances, orders and account data. */
  readonly read: boolean;
  /** The key can place and cancel orders. */
  readonly trade: boolean;
  /** The key can withdraw funds off the exchange. */
  readonly withdraw: boolean;
  /** The key can move funds between accounts (internal / universal transfer). */
  readonly transfer: boolean;
  /** The exchange reports the key as bound to an IP allow-list. */
  readonly ipRestricted: boolean;
  /** The allow-list the exchange reports (may be masked by the exchange's shape, e.g. KuCoin). */
  readonly ipAllowList: readonly string[];
}

/**
 * Credentials and permissions of one test key registered with `ExchangeSimulator.setKey`.
 *
 * @example
 * ```ts
 * sim.setKey("okx", {
 *   apiKey: "okx-test",
 *   secret: "okx-secret",
 *   passphrase: "okx-pass",
 *   permissions: { read: true, trade: true, withdraw: false, ipAllowList: ["203.0.113.7"] },
 * });
 * ```
 */
export interface SimulatedKeyInput {
  /** The public key id ccxt sends (for Coinbase the key name `organizations/…/apiKeys/…`). */
  readonly apiKey: string;
  /**
   * The test secret ccxt signs with. HMAC exchanges: the shared secret (Kraken: base64). Coinbase:
   * the PEM EC P-256 private key; the simulator verifies with the derived public key.
   */
  readonly secret: string;
  /** OKX, KuCoin, Bitget passphrase (ccxt `password`); required for those exchanges. */
  readonly passphrase?: string;
  /** Account uid reported by exchanges that have one (HTX requires it for `/v2/user/api-key`). */
  readonly uid?: string;
  /** Permission flags; omitted flags default to read-only (`read: true`, everything else off). */
  readonly permissions?: Partial<SimulatedPermissions>;
  /**
   * Addresses allowed to USE the key. When set, a request from any other address is refused with
   * the exchange's IP error (the simulator's clients connect from 127.0.0.1).
   */
  readonly ipAllowList?: readonly string[];
  /**
   * Binance spot only: starting balances, asset → decimal string (default BTC 1, ETH 10,
   * USDT 100000).
   */
  readonly balances?: Readonly<Record<string, string>>;
}

/** The kinds of failure {@link ExchangeSimulator.inject} can produce. */
export type FaultKind =
  /** Never answer; the request hangs until the client gives up (or the simulator closes). */
  | "timeout"
  /** HTTP 503 with a plain-text body. */
  | "server-error"
  /** HTTP 200 with a truncated JSON body. */
  | "malformed-json"
  /** The exchange's documented permission-denied error body, but with HTTP 200. */
  | "error-body-200"
  /** The exchange's documented rate-limit error (status and body). */
  | "rate-limit"
  /** The exchange's documented IP-not-allowed error (status and body). */
  | "ip-not-allowed"
  /** Exactly the given status and body. */
  | "custom";

/**
 * A fault applied to the next `times` matching requests (default 1).
 *
 * @example
 * ```ts
 * sim.inject({ exchange: "htx", kind: "error-body-200", endpoint: "GET /v2/user/api-key" });
 * sim.inject({ exchange: "okx", kind: "custom", body: { code: "0", data: [{ perm: "new_token" }] } });
 * ```
 */
export interface Fault {
  readonly exchange: SimulatedExchangeId;
  readonly kind: FaultKind;
  /** Restrict to one endpoint, written `METHOD /path` (e.g. `GET /sapi/v1/account/apiRestrictions`). */
  readonly endpoint?: string;
  /** How many matching requests the fault applies to; default 1. */
  readonly times?: number;
  /** For `custom`: the HTTP status (default 200). */
  readonly status?: number;
  /** For `custom`: the body; a string is sent verbatim, anything else as JSON. */
  readonly body?: unknown;
}

/** How the simulator handled a request. */
export type RequestOutcome =
  | "ok"
  | "auth-failed"
  | "ip-refused"
  | "fault"
  | "unknown-endpoint"
  | "withdraw-refused"
  | "bad-request";

/** One entry of the request log. Holds no secret, signature or passphrase. */
export interface RecordedRequest {
  readonly exchange: SimulatedExchangeId | null;
  /** `METHOD /path` without the query string. */
  readonly endpoint: string;
  /** The public key id the request claimed (unverified), if any. */
  readonly apiKey: string | undefined;
  readonly outcome: RequestOutcome;
  /** For `auth-failed`: which check failed. */
  readonly authFailure?: "badSignature" | "invalidKey" | "staleTimestamp" | "badPassphrase";
  readonly status: number;
}

/** Filter for {@link RequestLog.count}. */
export interface RequestFilter {
  readonly exchange?: SimulatedExchangeId;
  readonly endpoint?: string;
  readonly apiKey?: string;
  readonly outcome?: RequestOutcome;
  readonly authFailure?: RecordedRequest["authFailure"];
}

/**
 * The simulator's request log.
 *
 * @example
 * ```ts
 * expect(sim.requests.count({ exchange: "htx" })).toBe(2); // HTX needs two calls
 * expect(sim.requests.count({ outcome: "withdraw-refused" })).toBe(0);
 * ```
 */
export interface RequestLog {
  /** Every request received so far, oldest first. */
  all(): readonly RecordedRequest[];
  /** How many requests match `filter` (all of them when omitted). */
  count(filter?: RequestFilter): number;
  /** Forget every recorded request. */
  clear(): void;
}

/** What to pass to a ccxt exchange constructor so it talks to the simulator. */
export interface CcxtSimulatorOptions {
  /**
   * Replaces ccxt's transport: ccxt builds and signs the real `https://api.<exchange>` URL, and this
   * function sends the same method, headers and body to the simulator instead.
   */
  readonly fetchImplementation: (
    url: string,
    init: {
      method?: string;
      headers?: Record<string, unknown>;
      body?: unknown;
      signal?: AbortSignal;
    },
  ) => Promise<Response>;
}
