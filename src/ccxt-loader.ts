/**
 * Loads ONE ccxt exchange class without loading the rest of ccxt (importing "ccxt" loads all
 * 100+ exchanges: ~0.7 s of CPU and ~120 MB). ccxt's package exports only ".", so the class is
 * imported by file URL next to the resolved entry point. That depends on ccxt's internal layout
 * (`js/ccxt.js` beside `js/src/<id>.js`), which is why ccxt is pinned exactly and this loader is
 * covered by a test.
 *
 * Only the ccxt bindings (`keywarden/permissions/ccxt`, `keywarden/trading`) import this file.
 *
 * @internal
 */
import { KeywardenError } from "./errors.js";

/** A ccxt exchange constructor. */
export type CcxtExchangeClass = new (config?: Record<string, unknown>) => object;

const ID = /^[a-z][a-z0-9]{1,31}$/;
const cache = new Map<string, Promise<CcxtExchangeClass>>();

/**
 * Returns the ccxt class for `exchangeId` (e.g. `"binance"`), importing only that exchange's module.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a malformed id; `ERR_NOT_SUPPORTED` when
 * ccxt is not installed or has no such exchange.
 */
export function loadCcxtExchange(exchangeId: string): Promise<CcxtExchangeClass> {
  if (typeof exchangeId !== "string" || !ID.test(exchangeId)) {
    return Promise.reject(
      new KeywardenError("ERR_INVALID_ARGUMENT", "exchange id must be a lowercase ccxt id"),
    );
  }
  let p = cache.get(exchangeId);
  if (!p) {
    p = (async () => {
      let entry: string;
      try {
        entry = import.meta.resolve("ccxt");
      } catch (cause) {
        throw new KeywardenError("ERR_NOT_SUPPORTED", "ccxt is not installed (npm install ccxt)", {
          cause,
        });
      }
      let mod: { default?: unknown };
      try {
        mod = (await import(new URL(`./src/${exchangeId}.js`, entry).href)) as {
          default?: unknown;
        };
      } catch (cause) {
        throw new KeywardenError("ERR_NOT_SUPPORTED", `ccxt has no exchange '${exchangeId}'`, {
          cause,
        });
      }
      if (typeof mod.default !== "function") {
        throw new KeywardenError("ERR_NOT_SUPPORTED", `ccxt has no exchange '${exchangeId}'`);
      }
      return mod.default as CcxtExchangeClass;
    })();
    cache.set(exchangeId, p);
    p.catch(() => cache.delete(exchangeId));
  }
  return p;
}
