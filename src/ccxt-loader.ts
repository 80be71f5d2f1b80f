/**
 * Loads ONE ccxt exchange class without loading the rest of ccxt (importing "ccxt" loads all
 * 100+ exchanges: ~0.5 s of CPU and ~120 MB). ccxt's package exports only ".", so the class is
 * imported by file URL from `js/src/<id>.js` under the package root. That depends on ccxt's
 * internal layout, which is why ccxt is pinned exactly and the loaders are covered by tests (one
 * proves that only the one exchange module and ccxt's base files are loaded).
 *
 * Only the ccxt bindings (`keywarden/permissions/ccxt`, `keywarden/trading`) import this file.
 *
 * @internal
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { KeywardenError } from "./errors.js";

/** A ccxt exchange constructor. */
export type CcxtExchangeClass = new (config?: Record<string, unknown>) => object;

/** The ccxt version whose module layout keywarden was tested against. */
export const TESTED_CCXT_VERSION = "4.5.84";

const ID = /^[a-z][a-z0-9]{1,31}$/;
const cache = new Map<string, Promise<CcxtExchangeClass>>();

function ccxtRoot(): string {
  const require = createRequire(import.meta.url);
  // The "require" condition of ccxt's exports is `dist/ccxt.cjs`: the package root is one up.
  return dirname(dirname(require.resolve("ccxt")));
}

/**
 * The installed ccxt version (from its package.json), for diagnostics and the layout test;
 * `undefined` when ccxt is not installed.
 */
export function installedCcxtVersion(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(ccxtRoot(), "package.json"), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns the ccxt class for `exchangeId` (e.g. `"binance"`), importing only that exchange's module.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a malformed id; `ERR_NOT_SUPPORTED` when
 * ccxt is not installed, has no such exchange, or has an unexpected layout.
 */
export function loadCcxtExchange(exchangeId: string): Promise<CcxtExchangeClass> {
  /* Precondition: only a well-formed exchange id is turned into a module path. */
  if (typeof exchangeId !== "string" || !ID.test(exchangeId)) {
    return Promise.reject(
      new KeywardenError("ERR_INVALID_ARGUMENT", "exchange id must be a lowercase ccxt id"),
    );
  }
  let pending = cache.get(exchangeId);
  if (!pending) {
    pending = (async () => {
      let root: string;
      try {
        root = ccxtRoot();
      } catch {
        throw new KeywardenError(
          "ERR_NOT_SUPPORTED",
          "ccxt is not installed (optional peer dependency)",
        );
      }
      const file = join(root, "js", "src", `${exchangeId}.js`);
      if (!existsSync(file)) {
        throw new KeywardenError(
          "ERR_NOT_SUPPORTED",
          `ccxt has no per-exchange module for '${exchangeId}'`,
          {
            details: { tested: TESTED_CCXT_VERSION },
          },
        );
      }
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      if (typeof mod.default !== "function") {
        throw new KeywardenError("ERR_NOT_SUPPORTED", "unexpected ccxt module layout");
      }
      return mod.default as CcxtExchangeClass;
    })();
    pending.catch(() => cache.delete(exchangeId));
    cache.set(exchangeId, pending);
  }
  return pending;
}

/**
 * The fields of a ccxt instance (and of its constructor config) that hold credentials. The one
 * list the detector and the trading client clear after every call and refuse in host config.
 */
export const CCXT_CREDENTIAL_FIELDS = [
  "apiKey",
  "secret",
  "password",
  "uid",
  "privateKey",
  "walletAddress",
  "token",
  "login",
  "twofa",
  "accessToken",
] as const;

/** ccxt's copies of the last signed request and of its response, cleared with the credentials. */
export const CCXT_LAST_EXCHANGE_FIELDS = [
  "last_request_headers",
  "last_request_body",
  "last_request_url",
  "last_http_response",
  "last_json_response",
  "last_response_headers",
] as const;
