/**
 * The hooks the other modules call at their few instrumented points, and the switch that turns
 * them on. While observability is off (the default) every hook runs the wrapped function and
 * nothing else; once on, it records the catalog's metrics and spans through the injected
 * OpenTelemetry API. A hook never changes a result or an error, and never lets a telemetry
 * failure reach the caller. Imports nothing but the catalog and the structural API types.
 *
 * @packageDocumentation
 */
import { METRICS, SPANS } from "./catalog.js";
import { readAuditWaiting, readDurableQueues, readKillSwitchActive } from "./gauges.js";
import { type LoggerLike, redactingLogger } from "./logger.js";
import type {
  AttributesLike,
  BatchObservableCallbackLike,
  CounterLike,
  HistogramLike,
  MeterLike,
  ObservableCallbackLike,
  ObservableGaugeLike,
  OtelApiLike,
  SpanLike,
  TracerLike,
} from "./otel-like.js";

type Instrument = CounterLike | HistogramLike | ObservableGaugeLike;
type Instruments = { [K in keyof typeof METRICS]: Instrument };

interface Active {
  readonly tracer: TracerLike;
  readonly m: Instruments;
  /** Removes the gauges' callbacks from the meter. */
  readonly detach: () => void;
}

let active: Active | undefined;
let logger: LoggerLike | undefined;

/** @internal Sets (or, with undefined, removes) the host's logger, wrapped to redact. */
export function useLogger(host: LoggerLike | undefined): void {
  logger = host === undefined ? undefined : redactingLogger(host).child({ lib: "keywarden" });
}

type Level = "debug" | "info" | "warn" | "error";
function log(level: Level, event: string, fields: Record<string, unknown>): void {
  logger?.[level]({ event, ...fields }, event);
}

/** `SpanStatusCode` of `@opentelemetry/api`. */
const STATUS_OK = 1;
const STATUS_ERROR = 2;

/** @internal Switches the hooks on with `api`'s global meter and tracer. */
export function activate(api: OtelApiLike, version: string): void {
  deactivate();
  const meter = api.metrics.getMeter("keywarden", version);
  const m = {} as Record<string, Instrument>;
  for (const [key, spec] of Object.entries(METRICS)) {
    const options = { description: spec.description, unit: spec.unit };
    m[key] =
      spec.kind === "histogram"
        ? meter.createHistogram(spec.name, options)
        : spec.kind === "gauge"
          ? meter.createObservableGauge(spec.name, options)
          : meter.createCounter(spec.name, options);
  }
  const instruments = m as Instruments;
  active = {
    tracer: api.trace.getTracer("keywarden", version),
    m: instruments,
    detach: attachGauges(meter, instruments),
  };
}

/** Hands the gauges their callbacks (read only when the SDK collects); returns their removal. */
function attachGauges(meter: MeterLike, m: Instruments): () => void {
  const waiting = m.auditWaiting as ObservableGaugeLike;
  const switches = m.killSwitchActive as ObservableGaugeLike;
  const depth = m.auditQueueDepth as ObservableGaugeLike;
  const age = m.auditQueueAge as ObservableGaugeLike;
  const onWaiting: ObservableCallbackLike = (r) => safely(() => readAuditWaiting(r));
  const onSwitches: ObservableCallbackLike = (r) => readKillSwitchActive(r).catch(() => undefined);
  // Depth and age come from one query per database and collection.
  const onDurable: BatchObservableCallbackLike = async (r) => {
    const d = await readDurableQueues().catch(() => undefined);
    if (!d) return;
    safely(() => {
      r.observe(depth, d.pending, { state: "pending" });
      r.observe(depth, d.failed, { state: "failed" });
      r.observe(age, d.oldestPendingSeconds);
    });
  };
  waiting.addCallback(onWaiting);
  switches.addCallback(onSwitches);
  meter.addBatchObservableCallback(onDurable, [depth, age]);
  return () =>
    safely(() => {
      waiting.removeCallback(onWaiting);
      switches.removeCallback(onSwitches);
      meter.removeBatchObservableCallback(onDurable, [depth, age]);
    });
}

/** @internal Switches the hooks off (and the gauges' callbacks with them). */
export function deactivate(): void {
  active?.detach();
  active = undefined;
}

/** True while observability is on. */
export function observabilityEnabled(): boolean {
  return active !== undefined;
}

/** A stable, non-identifying code for an error: its `ERR_*` code, or "other". */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && /^ERR_[A-Z0-9_]{1,60}$/.test(code) ? code : "other";
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Telemetry never breaks the operation it observes.
  }
}

function add(key: keyof typeof METRICS, value: number, attributes: AttributesLike): void {
  const a = active;
  if (a) safely(() => (a.m[key] as CounterLike).add(value, attributes));
}

function record(key: keyof typeof METRICS, value: number, attributes: AttributesLike): void {
  const a = active;
  if (a) safely(() => (a.m[key] as HistogramLike).record(value, attributes));
}

/** Runs `fn` in a span named `name` (ended when `fn` settles), or just runs it when off. */
async function inSpan<T>(
  name: string,
  attributes: AttributesLike,
  fn: (span: SpanLike | undefined) => Promise<T>,
): Promise<T> {
  const a = active;
  if (!a) return fn(undefined);
  return a.tracer.startActiveSpan(name, { attributes }, async (span: SpanLike) => {
    try {
      const out = await fn(span);
      safely(() => {
        span.setAttribute("keywarden.outcome", "ok");
        span.setStatus({ code: STATUS_OK });
      });
      return out;
    } catch (err) {
      safely(() => {
        span.setAttribute("keywarden.outcome", "error");
        span.setAttribute("keywarden.error.code", errorCode(err));
        span.setStatus({ code: STATUS_ERROR, message: errorCode(err) });
      });
      throw err;
    } finally {
      safely(() => span.end());
    }
  });
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/**
 * Observes one KMS call.
 *
 * @internal
 */
export function observeKmsCall<T>(
  provider: string,
  operation: "generateDataKey" | "decrypt" | "reEncrypt",
  fn: () => Promise<T>,
): Promise<T> {
  // Not async itself: while observability is off the caller gets `fn`'s own promise (no extra
  // promise and microtask per call, each of which runs the AsyncLocalStorage promise hook).
  if (!active && !logger) return fn();
  return observedKmsCall(provider, operation, fn);
}

async function observedKmsCall<T>(
  provider: string,
  operation: "generateDataKey" | "decrypt" | "reEncrypt",
  fn: () => Promise<T>,
): Promise<T> {
  const base = { "kms.provider": provider, "kms.operation": operation };
  const start = performance.now();
  return inSpan(SPANS.kmsCall.name, base, async () => {
    try {
      const out = await fn();
      add("kmsCalls", 1, { ...base, outcome: "ok" });
      record("kmsDuration", seconds(start), { ...base, outcome: "ok" });
      return out;
    } catch (err) {
      add("kmsCalls", 1, { ...base, outcome: "error", "error.code": errorCode(err) });
      log("warn", "kms.call.failed", { provider, operation, code: errorCode(err) });
      record("kmsDuration", seconds(start), { ...base, outcome: "error" });
      throw err;
    }
  });
}

/**
 * Observes one credential open. `run` receives `opened`, to call when the secrets are handed to
 * the host's callback: errors after that are the host's, not the open's.
 *
 * @internal
 */
export function observeCredentialOpen<T>(
  identityKind: string,
  run: (opened: () => void) => Promise<T>,
): Promise<T> {
  // Not async itself: see observeKmsCall.
  if (!active && !logger) return run(noop);
  return observedCredentialOpen(identityKind, run);
}

const noop = (): void => undefined;

async function observedCredentialOpen<T>(
  identityKind: string,
  run: (opened: () => void) => Promise<T>,
): Promise<T> {
  let wasOpened = false;
  const opened = () => {
    if (wasOpened) return;
    wasOpened = true;
    add("credentialOpens", 1, { "identity.kind": identityKind, outcome: "ok" });
    log("debug", "vault.credential.opened", { identityKind });
  };
  return inSpan(SPANS.credentialOpen.name, { "keywarden.identity.kind": identityKind }, () =>
    run(opened).catch((err: unknown) => {
      if (!wasOpened) {
        add("credentialOpens", 1, {
          "identity.kind": identityKind,
          outcome: "error",
          "error.code": errorCode(err),
        });
        log("warn", "vault.credential.open_refused", { identityKind, code: errorCode(err) });
      }
      throw err;
    }),
  );
}

/**
 * Observes one store append of `entries` entries.
 *
 * @internal
 */
export function observeAuditAppend<T>(entries: number, fn: () => Promise<T>): Promise<T> {
  if (!active && !logger) return fn();
  const start = performance.now();
  return fn().then(
    (out) => {
      add("auditAppends", 1, { outcome: "ok" });
      record("auditAppendDuration", seconds(start), { outcome: "ok" });
      record("auditAppendBatch", entries, { outcome: "ok" });
      return out;
    },
    (err: unknown) => {
      const code = errorCode(err);
      const outcome = code === "ERR_AUDIT_APPEND_CONFLICT" ? "conflict" : "error";
      add("auditAppends", 1, { outcome, "error.code": code });
      log(outcome === "conflict" ? "debug" : "error", `audit.append.${outcome}`, { code, entries });
      record("auditAppendDuration", seconds(start), { outcome });
      record("auditAppendBatch", entries, { outcome });
      throw err;
    },
  );
}

/**
 * Records a permission detector verdict: one `ok`, or one `refused` per finding code.
 *
 * @internal
 */
export function observeDetectorVerdict(
  exchange: string,
  result: { readonly ok: boolean; readonly findings?: readonly { readonly code: string }[] },
): void {
  if (!active && !logger) return;
  if (result.ok) {
    add("detectorVerdicts", 1, { exchange, verdict: "ok", "finding.code": "none" });
    log("info", "permissions.accepted", { exchange });
    return;
  }
  const codes = new Set((result.findings ?? []).map((f) => f.code));
  if (codes.size === 0) codes.add("none");
  log("warn", "permissions.refused", { exchange, findings: [...codes] });
  for (const code of codes)
    add("detectorVerdicts", 1, { exchange, verdict: "refused", "finding.code": code });
}

/** Error codes that mean an order was refused before anything was sent. */
const REFUSALS = new Set([
  "ERR_TRADING_KILL_SWITCH_ACTIVE",
  "ERR_TRADING_RISK_LIMIT",
  "ERR_TRADING_INTENT_NOT_RECORDED",
  "ERR_TRADING_STATE_UNAVAILABLE",
  "ERR_TRADING_METHOD_REFUSED",
  "ERR_INVALID_ARGUMENT",
  "ERR_VAULT_UNAUTHORIZED",
  "ERR_VAULT_GRANT_SCOPE",
  "ERR_VAULT_GRANT_EXPIRED",
  "ERR_VAULT_GRANT_REVOKED",
  "ERR_VAULT_CREDENTIAL_DISABLED",
  "ERR_VAULT_USER_LOCKED",
  "ERR_GUARD_NOT_FOUND",
]);

/**
 * Observes one createOrder: a span around it, and the orders counter by outcome.
 *
 * @internal
 */
export function observeOrder<T>(
  order: { exchange: string; symbol?: unknown; side?: unknown; type?: unknown },
  fn: () => Promise<T>,
): Promise<T> {
  if (!active && !logger) return fn();
  const str = (v: unknown) => (typeof v === "string" ? v.slice(0, 32) : "unknown");
  const attributes = {
    "keywarden.exchange": str(order.exchange),
    "keywarden.order.side": str(order.side),
    "keywarden.order.type": str(order.type),
    "keywarden.order.symbol": str(order.symbol),
  };
  return inSpan(SPANS.orderCreate.name, attributes, () =>
    fn().then(
      (out) => {
        add("orders", 1, {
          exchange: attributes["keywarden.exchange"],
          outcome: "placed",
          reason: "none",
        });
        log("info", "trading.order.placed", { exchange: attributes["keywarden.exchange"] });
        return out;
      },
      (err: unknown) => {
        const code = errorCode(err);
        const outcome = REFUSALS.has(code) ? "refused" : "failed";
        add("orders", 1, { exchange: attributes["keywarden.exchange"], outcome, reason: code });
        log(outcome === "refused" ? "warn" : "error", `trading.order.${outcome}`, {
          exchange: attributes["keywarden.exchange"],
          code,
        });
        throw err;
      },
    ),
  );
}

/**
 * Records a kill-switch state change.
 *
 * @internal
 */
export function observeKillSwitch(
  state: "active" | "inactive",
  source: "client" | "emergency",
): void {
  add("killSwitchTransitions", 1, { state, source });
  log("warn", "trading.kill_switch", { state, source });
}
