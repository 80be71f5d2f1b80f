import { CCXT_CREDENTIAL_FIELDS, loadCcxtExchange } from "../ccxt-loader.js";
import type { ExchangeFactory, ExchangeLike } from "./exchange-like.js";

/** Options of {@link ccxtExchangeFactory}. */
export interface CcxtFactoryOptions {
  /**
   * Extra constructor options per exchange, e.g. the simulator's transport
   * (`sim.ccxtOptions("binance")`) or `{ options: { defaultType: "spot" } }`. Never credentials:
   * keywarden sets those per call and clears them afterwards.
   */
  readonly config?: (exchange: string) => Record<string, unknown> | undefined;
  /** Use the exchange's testnet/sandbox URLs (ccxt `setSandboxMode(true)`). */
  readonly sandbox?: boolean | undefined;
}

/**
 * An {@link ExchangeFactory} that builds credential-free ccxt instances, loading only the
 * requested exchange's module. `verbose` is forced off (ccxt's verbose mode prints signed requests
 * and passphrases).
 *
 * @example
 * ```ts
 * const trading = createTradingClient({ ..., exchanges: ccxtExchangeFactory({ sandbox: true }) });
 * ```
 */
export function ccxtExchangeFactory(options: CcxtFactoryOptions = {}): ExchangeFactory {
  return async (exchange: string): Promise<ExchangeLike> => {
    const Exchange = await loadCcxtExchange(exchange);
    const config = { ...(options.config?.(exchange) ?? {}) };
    for (const k of CCXT_CREDENTIAL_FIELDS) delete config[k];
    const ccxtOptions = {
      // keywarden lists open orders across symbols to cancel them (kill switch, reconciliation).
      warnOnFetchOpenOrdersWithoutSymbol: false,
      ...((config.options as Record<string, unknown> | undefined) ?? {}),
    };
    const instance = new Exchange({
      ...config,
      options: ccxtOptions,
      verbose: false,
      enableRateLimit: true,
    }) as ExchangeLike & {
      setSandboxMode?: (on: boolean) => void;
    };
    if (options.sandbox) instance.setSandboxMode?.(true);
    instance.verbose = false;
    return instance;
  };
}
