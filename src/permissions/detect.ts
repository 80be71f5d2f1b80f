/**
 * The detection core: runs a spec's read-only call plan through an injected caller and parses the
 * answers. Knows nothing of ccxt; the binding (`keywarden/permissions/ccxt`) supplies the caller.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../errors.js";
import type { Secret } from "../secret.js";
import { EXCHANGE_SPECS } from "./exchanges/index.js";
import { failed } from "./exchanges/shared.js";
import type { CallParams, ExchangeSpec, KeyContext } from "./exchanges/spec.js";
import type { DetectionResult, ExchangeId, FindingCode } from "./types.js";

/** API credentials as the vault hands them out: secrets stay in {@link Secret} containers. */
export interface ExchangeCredentials {
  /** The public key id (for Coinbase the key name). */
  readonly apiKey: Secret | string;
  /** The API secret (Kraken: base64; Coinbase: PEM private key). */
  readonly secret: Secret;
  /** The passphrase (OKX, KuCoin, Bitget). */
  readonly password?: Secret;
  /** The account uid, when known (HTX: saves one call). */
  readonly uid?: Secret | string;
}

/**
 * Maps a vault credential set (`apiKey`, `secret`, `password` or `passphrase`, `uid`) to
 * {@link ExchangeCredentials}. The containers are shared, not copied.
 *
 * @example
 * ```ts
 * await vault.withCredentials(session, id, (c) => detect({ exchange, credentials: fromVaultFields(c) }));
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `apiKey` or `secret` is missing.
 */
export function fromVaultFields(fields: Readonly<Record<string, Secret>>): ExchangeCredentials {
  const { apiKey, secret, uid } = fields;
  const password = fields.password ?? fields.passphrase;
  if (apiKey === undefined || secret === undefined) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "credential set lacks apiKey or secret");
  }
  return {
    apiKey,
    secret,
    ...(password === undefined ? {} : { password }),
    ...(uid === undefined ? {} : { uid }),
  };
}

/** How one call failed, as the binding saw it. Holds no secret: messages are already scrubbed. */
export interface CallFailure {
  readonly ok: false;
  /** The transport-level class of the failure. */
  readonly kind: "network" | "auth" | "permission" | "error";
  /** The raw error body the exchange sent (parsed JSON, or text), when there was one. */
  readonly body?: unknown;
  readonly httpStatus?: number;
  /** The client's error message, already scrubbed of URLs, signatures and credential values. */
  readonly message?: string;
}

/** What one implicit-method call produced. */
export type CallOutcome = { readonly ok: true; readonly body: unknown } | CallFailure;

/** Performs one authenticated implicit-method call (the binding's job). */
export type ExchangeCaller = (method: string, params: CallParams) => Promise<CallOutcome>;

/** What to detect. */
export interface DetectRequest {
  readonly exchange: ExchangeId;
  readonly credentials: ExchangeCredentials;
  /** Allow this exchange's opt-in probe (exchanges without a permission endpoint). */
  readonly probe?: boolean;
}

/** A detector: the binding's `createCcxtDetector()` returns one; tests may pass their own. */
export type DetectFn = (request: DetectRequest) => Promise<DetectionResult>;

const KIND_CODE: Readonly<Record<CallFailure["kind"], FindingCode>> = {
  network: "NETWORK",
  auth: "INVALID_KEY",
  permission: "PERMISSION_DENIED",
  error: "EXCHANGE_ERROR",
};

/** Turns a failed call into a finding: the raw exchange code first, the transport class second. */
function failureResult(spec: ExchangeSpec, failure: CallFailure): DetectionResult {
  const exchange = spec.id;
  const match = failure.body === undefined ? undefined : spec.classifyError(failure.body);
  const status = {
    ...(failure.httpStatus === undefined ? {} : { httpStatus: failure.httpStatus }),
    ...(failure.message === undefined ? {} : { clientMessage: failure.message.slice(0, 200) }),
  };
  if (match) return failed(exchange, match.code, { exchangeCode: match.exchangeCode, ...status });
  return failed(exchange, KIND_CODE[failure.kind], status);
}

/**
 * Runs `exchange`'s call plan through `call` and parses the answers. Makes no call for an
 * unsupported exchange, or for a probe-only exchange unless `probe` is set.
 *
 * @example
 * ```ts
 * const result = await runDetection("binance", { apiKey: "k" }, caller, { probe: false });
 * if (!result.ok) reportToUser(result.findings);
 * ```
 * @throws {KeywardenError} `ERR_INTERNAL` if a spec plans a method outside its read-only list.
 */
export async function runDetection(
  exchange: ExchangeId,
  key: KeyContext,
  call: ExchangeCaller,
  options: { readonly probe?: boolean } = {},
): Promise<DetectionResult> {
  return runSpec(EXCHANGE_SPECS[exchange], key, call, options);
}

/**
 * {@link runDetection} over an explicit spec (the registry's, or a custom one under test).
 *
 * @internal
 */
export async function runSpec(
  spec: ExchangeSpec,
  key: KeyContext,
  call: ExchangeCaller,
  options: { readonly probe?: boolean } = {},
): Promise<DetectionResult> {
  const exchange = spec.id;
  const steps = spec.plan(key);
  if (spec.status === "unsupported" || steps.length === 0) return failed(exchange, "UNSUPPORTED");
  /* Precondition: a probe-only exchange is called only when the policy opts in to its probe. */
  if (spec.status === "probe-only" && options.probe !== true) {
    return failed(exchange, "PROBE_NOT_ENABLED");
  }
  const answers: unknown[] = [];
  for (const step of steps) {
    /* Precondition: the detector calls only methods its spec lists as read-only. */
    if (!spec.readOnlyMethods.includes(step.method)) {
      throw new KeywardenError("ERR_INTERNAL", "permission spec planned a non-read-only call");
    }
    const params = step.params(answers);
    if ("ok" in params && typeof params.ok === "boolean") return params as DetectionResult;
    const outcome = await call(step.method, params as CallParams);
    if (!outcome.ok) return failureResult(spec, outcome);
    answers.push(outcome.body);
  }
  return spec.parse(answers, key);
}
