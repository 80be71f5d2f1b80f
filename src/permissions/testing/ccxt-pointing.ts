import { KeywardenError } from "../../errors.js";
import type { CcxtSimulatorOptions, SimulatedExchangeId } from "./types.js";

/*
 * Two ways to point ccxt at the simulator (reference exchanges.md §4):
 * - transport (`fetchImplementation`, all exchanges): ccxt builds and signs the real
 *   `https://<host>/<path>` URL; we send the same request to `<base>/<exchange>/<host>/<path>`.
 * - URL groups (`pointUrls`): rewrite every `https://` URL in `urls.api` to the same prefix. Works
 *   only where the signature does not cover the scheme and host (see the simulator tests).
 */

type Init = Parameters<CcxtSimulatorOptions["fetchImplementation"]>[1];

/** Rewrites `https://host/path?q` to the simulator's `<base>/<exchange>/host/path?q`. */
export function simulatorUrl(baseUrl: string, exchange: SimulatedExchangeId, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "not an absolute URL");
  }
  /* Precondition: only exchange https URLs are redirected to the simulator. */
  if (parsed.protocol !== "https:" || parsed.port !== "") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "the simulator only redirects https URLs");
  }
  return `${baseUrl}/${exchange}/${parsed.hostname}${parsed.pathname}${parsed.search}`;
}

function plainHeaders(headers: Init["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined && value !== null) out[name] = String(value);
  }
  return out;
}

/** Constructor options routing one ccxt instance's transport to the simulator. */
export function ccxtOptionsFor(
  baseUrl: string,
  exchange: SimulatedExchangeId,
): CcxtSimulatorOptions {
  return {
    fetchImplementation: (url, init) =>
      fetch(simulatorUrl(baseUrl, exchange, url), {
        method: init.method ?? "GET",
        headers: plainHeaders(init.headers),
        ...(typeof init.body === "string" ? { body: init.body } : {}),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
        redirect: "error",
      }),
  };
}

/** Rewrites every `https://…` string in a ccxt `urls.api` tree, in place. */
export function pointUrlTree(tree: unknown, baseUrl: string, exchange: SimulatedExchangeId): void {
  if (typeof tree !== "object" || tree === null) return;
  const record = tree as Record<string, unknown>;
  for (const [name, value] of Object.entries(record)) {
    if (typeof value === "string" && value.startsWith("https://")) {
      record[name] = `${baseUrl}/${exchange}/${value.slice("https://".length)}`;
    } else {
      pointUrlTree(value, baseUrl, exchange);
    }
  }
}
