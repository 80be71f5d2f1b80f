/**
 * The data model of the withdraw-permission detector: what an exchange says a key may do, the
 * closed set of finding codes, and results as data.
 *
 * @packageDocumentation
 */

/** Every exchange the detector knows, by its ccxt id. */
export const SUPPORTED_EXCHANGES = [
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
  "woo",
  "hyperliquid",
  "upbit",
  "coinex",
  "bitvavo",
  "whitebit",
  "phemex",
  "poloniex",
  "lbank",
] as const;

/** A ccxt exchange id the detector supports. */
export type ExchangeId = (typeof SUPPORTED_EXCHANGES)[number];

/** A capability as the exchange reported it; `"unknown"` whenever the answer is not definite. */
export type Capability = boolean | "unknown";

/** A non-secret value copied from the exchange's answer into {@link KeyPermissions.evidence}. */
export type EvidenceValue = string | number | boolean | null | readonly string[];

/** What one API key may do, as read from the exchange. */
export interface KeyPermissions {
  readonly exchange: ExchangeId;
  /** The key can read balances, orders and account data. */
  readonly read: Capability;
  /** The key can place and cancel orders. */
  readonly trade: Capability;
  /** The key can withdraw funds off the exchange. */
  readonly withdraw: Capability;
  /** The key can move funds to another account (universal, internal or sub-account transfer). */
  readonly transfer: Capability;
  /** The exchange binds the key to an IP allow-list. */
  readonly ipRestricted: Capability;
  /** The allow-list, when the exchange reports it unmasked. */
  readonly ipAllowList?: readonly string[];
  /** Permission tokens the parser does not know (each forces a rejection). */
  readonly unknownTokens: readonly string[];
  /** Non-secret fields that justified the verdict (never the key, secret, passphrase or signature). */
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  /** `endpoint`: a documented permission endpoint; `probe`: an opt-in indirect check. */
  readonly source: "endpoint" | "probe";
}

/** The closed set of finding codes. */
export const FINDING_CODES = [
  "WITHDRAW_ENABLED",
  "TRANSFER_ENABLED",
  "PERMISSION_UNKNOWN",
  "UNKNOWN_TOKEN",
  "IP_NOT_RESTRICTED",
  "IP_RESTRICTION_UNKNOWN",
  "IP_LIST_MISMATCH",
  "IP_LIST_UNKNOWN",
  "READ_ONLY",
  "INVALID_KEY",
  "IP_NOT_ALLOWED",
  "PERMISSION_DENIED",
  "NETWORK",
  "EXCHANGE_ERROR",
  "MALFORMED_RESPONSE",
  "UNSUPPORTED",
  "PROBE_NOT_ENABLED",
] as const;

/** Why a key is (or would be) rejected. */
export type FindingCode = (typeof FINDING_CODES)[number];

/** One reason for rejecting a key. Holds no secret: fixed message, non-secret details. */
export interface Finding {
  readonly code: FindingCode;
  readonly exchange: ExchangeId;
  /** Fixed, human-readable text for the code. */
  readonly message: string;
  /** Non-secret context: exchange error code, HTTP status, field name, unknown token. */
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Result of reading a key's permissions: the answer, or why there is none. */
export type DetectionResult =
  | { readonly ok: true; readonly permissions: KeyPermissions }
  | { readonly ok: false; readonly findings: readonly Finding[] };

/** Result of judging permissions against a policy. */
export type PermissionVerdict =
  | { readonly ok: true; readonly permissions: KeyPermissions }
  | {
      readonly ok: false;
      readonly findings: readonly Finding[];
      readonly permissions?: KeyPermissions;
    };
