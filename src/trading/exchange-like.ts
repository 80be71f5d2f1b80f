/**
 * The subset of a ccxt exchange instance keywarden uses, typed structurally so that the trading
 * core never imports ccxt (kysely's rule: "we don't use the type from the driver here").
 */
import { CCXT_CREDENTIAL_FIELDS, CCXT_LAST_EXCHANGE_FIELDS } from "../ccxt-loader.js";

/** A unified ccxt order (the fields keywarden reads). */
export interface OrderLike {
  readonly id: string;
  readonly clientOrderId?: string | undefined;
  readonly symbol: string;
  readonly side?: string | undefined;
  readonly type?: string | undefined;
  readonly amount?: number | undefined;
  readonly price?: number | undefined;
  readonly status?: string | undefined;
  readonly timestamp?: number | undefined;
}

/** A ccxt exchange instance, as keywarden drives it. */
export interface ExchangeLike {
  apiKey?: string | undefined;
  secret?: string | undefined;
  password?: string | undefined;
  uid?: string | undefined;
  privateKey?: string | undefined;
  walletAddress?: string | undefined;
  token?: string | undefined;
  verbose?: boolean | undefined;
  markets?: Record<string, unknown> | undefined;
  currencies?: Record<string, unknown> | undefined;
  throttler?: unknown;
  last_request_headers?: unknown;
  last_request_body?: unknown;
  last_request_url?: unknown;
  last_http_response?: unknown;
  last_json_response?: unknown;
  last_response_headers?: unknown;
  loadMarkets(reload?: boolean): Promise<Record<string, unknown>>;
  setMarkets?(markets: Record<string, unknown>, currencies?: Record<string, unknown>): unknown;
  createOrder(
    symbol: string,
    type: string,
    side: string,
    amount: number,
    price?: number,
    params?: Record<string, unknown>,
  ): Promise<OrderLike>;
  cancelOrder(id: string, symbol?: string, params?: Record<string, unknown>): Promise<unknown>;
  cancelAllOrders(symbol?: string, params?: Record<string, unknown>): Promise<unknown>;
  fetchOrder(id: string, symbol?: string, params?: Record<string, unknown>): Promise<OrderLike>;
  fetchOpenOrders(
    symbol?: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<OrderLike[]>;
  fetchOrders?(
    symbol?: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<OrderLike[]>;
  fetchMyTrades(
    symbol?: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<unknown[]>;
  fetchBalance(params?: Record<string, unknown>): Promise<unknown>;
  fetchTicker(
    symbol: string,
    params?: Record<string, unknown>,
  ): Promise<{ last?: number | undefined }>;
  fetchTickers?(symbols?: string[], params?: Record<string, unknown>): Promise<unknown>;
  fetchOrderBook?(
    symbol: string,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<unknown>;
  fetchOHLCV?(
    symbol: string,
    timeframe?: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<unknown>;
  fetchTrades?(
    symbol: string,
    since?: number,
    limit?: number,
    params?: Record<string, unknown>,
  ): Promise<unknown>;
  fetchMarkets?(params?: Record<string, unknown>): Promise<unknown>;
}

/** Creates credential-free exchange instances (the ccxt binding supplies one). */
export type ExchangeFactory = (exchange: string) => ExchangeLike | Promise<ExchangeLike>;

/**
 * Removes every credential and every copy of the last signed request from an instance, so no
 * reference keeps the secret strings alive once the call is over.
 */
export function clearCredentials(instance: ExchangeLike): void {
  for (const f of CCXT_CREDENTIAL_FIELDS)
    (instance as unknown as Record<string, unknown>)[f] = undefined;
  for (const f of CCXT_LAST_EXCHANGE_FIELDS)
    (instance as unknown as Record<string, unknown>)[f] = undefined;
}
