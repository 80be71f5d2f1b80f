import { parseJson } from "../canonical.js";
import {
  CCXT_CREDENTIAL_FIELDS,
  CCXT_LAST_EXCHANGE_FIELDS,
  loadCcxtExchange,
} from "../ccxt-loader.js";
import { KeywardenError } from "../errors.js";
import { scrubText } from "../scrub.js";
import { Secret } from "../secret.js";
import type { CallFailure, CallOutcome, DetectFn, DetectRequest } from "./detect.js";
import { runDetection } from "./detect.js";
import { EXCHANGE_SPECS } from "./exchanges/index.js";
import { type ExchangeId, SUPPORTED_EXCHANGES } from "./types.js";

/** The ccxt version whose internal layout (`js/src/<id>.js`) this binding was tested against. */
export { installedCcxtVersion, TESTED_CCXT_VERSION } from "../ccxt-loader.js";

/** The fetch signature ccxt's legacy transport hook calls. */
export type FetchLike = (
  url: string,
  init: {
    method?: string;
    headers?: Record<string, unknown>;
    body?: unknown;
    signal?: AbortSignal;
  },
) => Promise<Response>;

/** Options of {@link createCcxtDetector}. */
export interface CcxtDetectorOptions {
  /** Per-request timeout in ms (default 10 000). */
  readonly timeoutMs?: number;
  /**
   * Send requests to a local server instead of the exchange: `https://<host><path>?<query>` goes to
   * `<baseUrl>/<host><path>?<query>` (the simulator's `sim.url(exchange)`). Loopback only. ccxt
   * still signs the real exchange URL.
   */
  readonly baseUrl?: string;
  /** Replace ccxt's transport (e.g. the simulator's `ccxtOptions(exchange).fetchImplementation`). */
  readonly fetchImplementation?: FetchLike;
  /**
   * Diagnostics hook, called with the ccxt instance AFTER its credentials and `last_*` fields were
   * cleared (tests use it to prove the clearing). Never receives a credential.
   */
  readonly afterCall?: (instance: Readonly<Record<string, unknown>>) => void;
  /**
   * Talk to the exchange's testnet (ccxt `setSandboxMode(true)`). Not every testnet serves the
   * permission endpoint (Binance's spot testnet has no `sapi` routes): there the answer is unknown
   * and the key is refused, as it should be.
   */
  readonly sandbox?: boolean;
  /**
   * Receives each raw answer of the permission read (the exchange's parsed response body, or the
   * error body with its HTTP status), for `keywarden key check --record`. Response data only:
   * never a request, header or credential — redact ids before persisting it.
   */
  readonly onAnswer?: (answer: RecordedAnswer) => void;
}

/** One raw answer as {@link CcxtDetectorOptions.onAnswer} receives it. */
export interface RecordedAnswer {
  readonly method: string;
  /** HTTP status when ccxt reported one (error answers), else 200. */
  readonly status: number;
  /** The response's content type, when known. */
  readonly contentType?: string;
  readonly body: unknown;
}

/** The last response ccxt reported (status, raw body, content type). */
interface Captured {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

/** The subset of a ccxt instance the binding touches. */
interface ExchangeLike {
  verbose: boolean;
  log: (...args: unknown[]) => void;
  onRestResponse: (
    status: number,
    statusText: string,
    url: string,
    method: string,
    ...rest: unknown[]
  ) => string;
  [field: string]: unknown;
}
type ExchangeCtor = new (config: Record<string, unknown>) => ExchangeLike;

/** Instance fields that hold credentials or signed request/response data. */
const SENSITIVE_FIELDS = [...CCXT_CREDENTIAL_FIELDS, ...CCXT_LAST_EXCHANGE_FIELDS];

const NETWORK_CLASSES = new Set([
  "NetworkError",
  "RequestTimeout",
  "ExchangeNotAvailable",
  "DDoSProtection",
  "RateLimitExceeded",
  "OnMaintenance",
]);

/**
 * Imports one exchange's ESM module (`ccxt/js/src/<id>.js`) by file URL through the shared loader.
 * ccxt's `exports` expose only the whole library, whose import loads 100+ exchanges.
 */
function loadExchangeClass(id: ExchangeId): Promise<ExchangeCtor> {
  /* Precondition: only a supported exchange id is turned into a module path. */
  if (!SUPPORTED_EXCHANGES.includes(id)) {
    return Promise.reject(
      new KeywardenError("ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE", "unsupported exchange"),
    );
  }
  return loadCcxtExchange(id) as Promise<ExchangeCtor>;
}

function errorClassNames(err: unknown): string[] {
  const names: string[] = [];
  let proto = typeof err === "object" && err !== null ? Object.getPrototypeOf(err) : null;
  while (proto && proto !== Object.prototype && names.length < 16) {
    const name = (proto.constructor as { name?: unknown } | undefined)?.name;
    if (typeof name === "string") names.push(name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

function failureKind(err: unknown): CallFailure["kind"] {
  const names = errorClassNames(err);
  if (names.some((n) => NETWORK_CLASSES.has(n))) return "network";
  if (names.includes("PermissionDenied")) return "permission";
  if (names.includes("AuthenticationError") || names.includes("AccountSuspended")) return "auth";
  return "error";
}

function rawBody(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return text.slice(0, 2000);
  }
}

function loopbackRewrite(baseUrl: string): FetchLike {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "baseUrl is not a URL");
  }
  /* Precondition: baseUrl redirection only ever targets a loopback address. */
  if (!["127.0.0.1", "localhost", "[::1]"].includes(base.hostname) || base.protocol !== "http:") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "baseUrl must be http on a loopback address");
  }
  const prefix = base.href.replace(/\/$/, "");
  return (url, init) => {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) if (v != null) headers[k] = String(v);
    return fetch(`${prefix}/${target.hostname}${target.pathname}${target.search}`, {
      method: init.method ?? "GET",
      headers,
      ...(typeof init.body === "string" ? { body: init.body } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      redirect: "error",
    });
  };
}

const text = (value: Secret | string | undefined): string | undefined =>
  value === undefined ? undefined : Secret.isSecret(value) ? value.useText((t) => t) : value;

/**
 * Creates a detector that reads API-key permissions through ccxt.
 *
 * @example
 * ```ts
 * import { createCcxtDetector } from "keywarden/permissions/ccxt";
 * import { decide } from "keywarden/permissions";
 * const detect = createCcxtDetector({ timeoutMs: 5000 });
 * const verdict = decide(await detect({ exchange: "okx", credentials }), policy);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a non-loopback `baseUrl`. The returned
 * function rejects with `ERR_INVALID_ARGUMENT` for an unknown exchange, `ERR_NOT_SUPPORTED` when
 * ccxt is missing or its layout changed, `ERR_SECRET_WIPED` for wiped credentials; every exchange
 * or network failure is a finding, never a thrown ccxt error.
 */
export function createCcxtDetector(options: CcxtDetectorOptions = {}): DetectFn {
  const timeout = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeout) || timeout < 100 || timeout > 120_000) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "timeoutMs must be an integer in 100..120000");
  }
  const transport =
    options.fetchImplementation ??
    (options.baseUrl === undefined ? undefined : loopbackRewrite(options.baseUrl));

  return async (request: DetectRequest) => {
    const { exchange, credentials } = request;
    if (!SUPPORTED_EXCHANGES.includes(exchange)) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "unsupported exchange id");
    }
    const apiKey = text(credentials.apiKey) ?? "";
    const uid = text(credentials.uid);
    let instance: ExchangeLike | undefined;
    let secretText = "";
    let passwordText = "";
    const capture: { last?: Captured | undefined } = {};

    const open = async (): Promise<ExchangeLike> => {
      if (instance) return instance;
      const Ctor = await loadExchangeClass(exchange);
      secretText = credentials.secret.useText((t) => t);
      passwordText = credentials.password?.useText((t) => t) ?? "";
      const evm = EXCHANGE_SPECS[exchange].derive === "evm-address-of-secret";
      const ex = new Ctor({
        ...(evm
          ? { walletAddress: apiKey, privateKey: secretText }
          : { apiKey, secret: secretText }),
        ...(passwordText ? { password: passwordText } : {}),
        timeout,
        verbose: false,
        enableRateLimit: false,
        ...(transport ? { fetchImplementation: transport } : {}),
      });
      if (options.sandbox) {
        // The exchange's own testnet (e.g. Bybit's api-testnet): real endpoints, no real funds.
        (ex as { setSandboxMode?: (on: boolean) => void }).setSandboxMode?.(true);
      }
      /* Precondition: verbose logging is off whatever the constructor or defaults say. */
      ex.verbose = false;
      ex.log = () => {};
      /* Precondition: ccxt neither retries the call nor keeps a history of signed requests. */
      ex.fetchHistoryCacheSize = 0;
      if (typeof ex.options === "object" && ex.options !== null) {
        (ex.options as Record<string, unknown>).maxRetriesOnFailure = 0;
      }
      const original = ex.onRestResponse.bind(ex);
      ex.onRestResponse = (status, statusText, url, method, ...rest) => {
        const headers = rest[0] as Record<string, unknown> | undefined;
        const type = headers?.["content-type"] ?? headers?.["Content-Type"];
        capture.last = {
          status,
          body: typeof rest[1] === "string" ? rest[1] : "",
          ...(typeof type === "string" ? { contentType: type.slice(0, 80) } : {}),
        };
        return original(status, statusText, url, method, ...rest);
      };
      instance = ex;
      return ex;
    };

    const call = async (method: string, params: Readonly<Record<string, string | number>>) => {
      capture.last = undefined;
      const ex = await open();
      const fn = ex[method];
      if (typeof fn !== "function") {
        return { ok: false, kind: "error" } satisfies CallOutcome;
      }
      try {
        const body: unknown = await (fn as (p: object) => Promise<unknown>).call(ex, { ...params });
        const type = (capture.last as Captured | undefined)?.contentType;
        options.onAnswer?.({ method, status: 200, ...(type ? { contentType: type } : {}), body });
        return { ok: true, body } satisfies CallOutcome;
      } catch (err) {
        if (err instanceof KeywardenError) throw err;
        const seen = capture.last as Captured | undefined;
        if (seen && options.onAnswer) {
          const raw = rawBody(seen.body);
          options.onAnswer({
            method,
            status: seen.status,
            ...(seen.contentType ? { contentType: seen.contentType } : {}),
            body:
              typeof raw === "string"
                ? scrubText(raw, [apiKey, secretText, passwordText], 2000)
                : raw,
          });
        }
        const message = err instanceof Error ? err.message : String(err);
        return {
          ok: false,
          kind: failureKind(err),
          /* Precondition: a ccxt error message leaves the binding only scrubbed of URLs, signatures and the credential values. */
          message: scrubText(message, [apiKey, secretText, passwordText], 200),
          ...(seen ? { httpStatus: seen.status, body: rawBody(seen.body) } : {}),
        } satisfies CallOutcome;
      }
    };

    try {
      let signer: string | undefined;
      if (EXCHANGE_SPECS[exchange].derive === "evm-address-of-secret") {
        /* Precondition: the address whose role is read is the one the held secret signs as, derived here, never claimed. */
        const ex = await open();
        const derive = ex.ethGetAddressFromPrivateKey;
        try {
          signer =
            typeof derive === "function"
              ? String((derive as (k: string) => unknown).call(ex, secretText))
              : undefined;
        } catch {
          signer = undefined;
        }
      }
      return await runDetection(
        exchange,
        { apiKey, ...(uid ? { uid } : {}), ...(signer ? { signer } : {}) },
        call,
        {
          probe: request.probe === true,
        },
      );
    } finally {
      /* Precondition: credentials and last request/response fields are cleared from the instance after the call. */
      if (instance) {
        for (const field of SENSITIVE_FIELDS) instance[field] = undefined;
        instance.fetchHistoryCache = [];
        options.afterCall?.(instance);
      }
      instance = undefined;
      secretText = "";
      passwordText = "";
      capture.last = undefined;
    }
  };
}

/** Scrubs `text` of URLs, signatures, tokens and the given credential values (re-exported helper). */
export { scrubText };
