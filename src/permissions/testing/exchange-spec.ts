import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { SimulatedExchangeId, SimulatedPermissions } from "./types.js";

/** A request as the exchange would see it (the simulator's routing prefix removed). */
export interface SimRequest {
  readonly method: string;
  /** The exchange host ccxt addressed, e.g. `api.binance.com`. */
  readonly host: string;
  /** Path on that host, e.g. `/sapi/v1/account/apiRestrictions`. */
  readonly path: string;
  /** Raw query string as sent, without `?` ("" when none). */
  readonly query: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body ("" when none). */
  readonly body: string;
}

/** A reply: a string body is sent verbatim, anything else as JSON. */
export interface SimResponse {
  readonly status: number;
  readonly body: unknown;
}

/** A registered test key, with the simulator's per-key state. */
export interface RegisteredKey {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string | undefined;
  readonly uid: string;
  readonly permissions: SimulatedPermissions;
  readonly ipAllowList: readonly string[] | undefined;
  /** Starting balances for stateful order routes (asset → decimal string). */
  readonly balances: Readonly<Record<string, string>> | undefined;
  /** Highest nonce seen, for exchanges that require increasing nonces. */
  lastNonce: bigint;
  /** Per-key state of stateful routes (e.g. the binance order book). */
  readonly state: Map<string, unknown>;
}

/** Why authentication failed; each maps to the exchange's documented error. */
export type AuthFailure = "badSignature" | "invalidKey" | "staleTimestamp" | "badPassphrase";

export type AuthResult =
  | { readonly ok: true; readonly key: RegisteredKey }
  | { readonly ok: false; readonly reason: AuthFailure };

export interface AuthContext {
  findKey(apiKey: string): RegisteredKey | undefined;
  /** The simulator clock, ms since the epoch. */
  now(): number;
}

/** What a route handler receives. */
export interface RouteCall {
  readonly request: SimRequest;
  /** The verified key (undefined only for public routes). */
  readonly key: RegisteredKey | undefined;
  readonly now: number;
  /**
   * Every key registered for this exchange, for public routes that answer about any account
   * (Hyperliquid's unsigned `POST /info`).
   */
  readonly registered: () => readonly RegisteredKey[];
}

export interface Route {
  /** `signed` routes run {@link ExchangeSpec.authenticate} first. */
  readonly auth: "signed" | "public";
  /** Withdraw endpoints: counted and always refused with the permission-denied error. */
  readonly withdraw?: true;
  handle(call: RouteCall): SimResponse;
}

/** The exchange's documented error replies. */
export interface ErrorCatalogue {
  readonly badSignature: SimResponse;
  readonly invalidKey: SimResponse;
  readonly staleTimestamp: SimResponse;
  readonly badPassphrase?: SimResponse;
  readonly ipNotAllowed: SimResponse;
  readonly rateLimited: SimResponse;
  readonly permissionDenied: SimResponse;
}

/** One simulated exchange: how it authenticates, what it serves, how it fails. */
export interface ExchangeSpec {
  readonly id: SimulatedExchangeId;
  /** The key id a request claims, read without verifying anything (for the request log). */
  claimedApiKey(request: SimRequest): string | undefined;
  authenticate(request: SimRequest, context: AuthContext): AuthResult | Promise<AuthResult>;
  /** Keyed `METHOD /path`. */
  readonly routes: Readonly<Record<string, Route>>;
  readonly errors: ErrorCatalogue;
  /** Optional fallback for parameterised paths (e.g. `/api/v3/order` variants). */
  matchRoute?(method: string, path: string): Route | undefined;
}

/** Constant-time equality of two strings' UTF-8 bytes; false when lengths differ. */
export function safeEqual(actual: string | undefined, expected: string): boolean {
  if (actual === undefined) return false;
  const a = Buffer.from(actual, "utf8");
  const b = Buffer.from(expected, "utf8");
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

export function hmac(
  algorithm: "sha256" | "sha384" | "sha512",
  key: string | Buffer,
  data: string | Buffer,
  encoding: "hex" | "base64",
): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

export function digest(algorithm: "sha256" | "sha512", data: string | Buffer): Buffer {
  return createHash(algorithm).update(data).digest();
}

/** Path plus `?query` when there is one. */
export function pathWithQuery(request: SimRequest): string {
  return request.query === "" ? request.path : `${request.path}?${request.query}`;
}

/** Reads one parameter from a raw query string. */
export function queryParam(query: string, name: string): string | undefined {
  return new URLSearchParams(query).get(name) ?? undefined;
}

/** True when `ms` lies within `windowMs` of `now` (either side). */
export function isFresh(ms: number, now: number, windowMs: number): boolean {
  return Number.isFinite(ms) && Math.abs(now - ms) <= windowMs;
}

/** Parses a JSON body, or undefined when it is not JSON. */
export function parseJsonBody(body: string): unknown {
  if (body === "") return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Reply helper. */
export function reply(status: number, body: unknown): SimResponse {
  return { status, body };
}

/**
 * Accepts a strictly increasing integer nonce per key (Kraken, Bitfinex, Gemini); a replayed or
 * smaller nonce is refused. Only call after the signature has been verified.
 */
export function acceptIncreasingNonce(key: RegisteredKey, nonce: string | undefined): boolean {
  if (nonce === undefined || !/^\d{1,30}$/.test(nonce)) return false;
  const value = BigInt(nonce);
  if (value <= key.lastNonce) return false;
  key.lastNonce = value;
  return true;
}

/** Standard base64 decoding that refuses anything but canonical base64. */
export function strictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}
