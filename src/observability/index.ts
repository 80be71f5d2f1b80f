/**
 * `keywarden/observability`: metrics and traces through OpenTelemetry, and structured logs. keywarden never loads
 * `@opentelemetry/api` by itself (it is an optional peer): until the host calls
 * {@link enableObservability} every hook is a no-op. The instruments come from the global
 * meter and tracer providers the host registers with its OpenTelemetry SDK; no attribute carries a
 * secret, a user id, a credential id or an order id (docs/observability.md lists them all).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../errors.js";
import { activate, deactivate, useLogger } from "./hooks.js";
import type { LoggerLike } from "./logger.js";
import type { OtelApiLike } from "./otel-like.js";

export { METRICS, type MetricSpec, SPANS, type SpanSpec } from "./catalog.js";
export { observabilityEnabled } from "./hooks.js";
export {
  LOG_REDACT_PATHS,
  type LogFn,
  type LoggerLike,
  REDACTED,
  REDACTED_FIELDS,
  redactForLog,
  redactingLogger,
} from "./logger.js";
export type {
  AttributesLike,
  BatchObservableCallbackLike,
  BatchObservableResultLike,
  CounterLike,
  HistogramLike,
  MeterLike,
  ObservableCallbackLike,
  ObservableGaugeLike,
  ObservableResultLike,
  OtelApiLike,
  SpanLike,
  TracerLike,
} from "./otel-like.js";

/** Version reported as the meter's and tracer's instrumentation scope version. */
const SCOPE_VERSION = "0.1.0";

/**
 * Turns keywarden's metrics and spans on. Pass the `@opentelemetry/api` module (or anything with
 * its `metrics` and `trace` globals), or nothing to have it imported. Call it once at start-up,
 * after registering the SDK's providers; calling it again re-creates the instruments. The gauges
 * (audit queues, active kill switches) are observable instruments whose callbacks run only when
 * the SDK collects; {@link disableObservability} removes them.
 *
 * @example
 * ```ts
 * import * as otel from "@opentelemetry/api";
 * import { enableObservability } from "keywarden/observability";
 * await enableObservability({ api: otel });
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when no `api` is given and `@opentelemetry/api`
 * is not installed; `ERR_INVALID_ARGUMENT` when `api` lacks `metrics` or `trace`.
 */
export async function enableObservability(options: { api?: OtelApiLike } = {}): Promise<void> {
  let api = options.api;
  if (api === undefined) {
    try {
      api = (await import("@opentelemetry/api")) as unknown as OtelApiLike;
    } catch (cause) {
      throw new KeywardenError(
        "ERR_NOT_SUPPORTED",
        "observability needs the optional peer @opentelemetry/api (npm install @opentelemetry/api)",
        { cause, details: { package: "@opentelemetry/api" } },
      );
    }
  }
  if (typeof api?.metrics?.getMeter !== "function" || typeof api?.trace?.getTracer !== "function")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "api must be the @opentelemetry/api module");
  activate(api, SCOPE_VERSION);
}

/**
 * Turns the hooks off again (they become no-ops; instruments already handed to the SDK stay
 * with it).
 *
 * @example
 * ```ts
 * disableObservability();
 * ```
 * @throws never.
 */
export function disableObservability(): void {
  deactivate();
}

/**
 * Sends keywarden's structured log events (KMS failures, refused credential opens, audit append
 * failures, permission verdicts, orders placed/refused/failed, kill-switch changes; see
 * docs/observability.md) to the host's pino-compatible `logger`, as a child with
 * `{ lib: "keywarden" }`. Every object is redacted first ({@link REDACTED_FIELDS}; errors reduced
 * to their code). `{ logger: undefined }` stops logging. Without it keywarden logs nothing, and it
 * never writes to the console.
 *
 * @example
 * ```ts
 * import pino from "pino";
 * configureLogging({ logger: pino({ level: "info" }) });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the logger lacks a level method or `child`.
 */
export function configureLogging(options: { readonly logger: LoggerLike | undefined }): void {
  useLogger(options?.logger);
}
