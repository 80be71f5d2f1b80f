/**
 * The small structural subset of `@opentelemetry/api` that keywarden uses, typed locally so that
 * nothing in keywarden imports the package for its types (it is an optional peer). The real
 * `@opentelemetry/api` module satisfies {@link OtelApiLike} as is.
 *
 * @packageDocumentation
 */

/** Attribute values keywarden records: strings, numbers and booleans only. */
export type AttributesLike = Record<string, string | number | boolean>;

/** A counter (`Counter`). */
export interface CounterLike {
  add(value: number, attributes?: AttributesLike): void;
}

/** A histogram (`Histogram`). */
export interface HistogramLike {
  record(value: number, attributes?: AttributesLike): void;
}

/** What an observable instrument's callback reports into (`ObservableResult`). */
export interface ObservableResultLike {
  observe(value: number, attributes?: AttributesLike): void;
}

/** A callback read at each collection; it may be async (the SDK awaits it, with a timeout). */
export type ObservableCallbackLike = (result: ObservableResultLike) => void | Promise<void>;

/** An observable gauge (`ObservableGauge`). */
export interface ObservableGaugeLike {
  addCallback(callback: ObservableCallbackLike): void;
  removeCallback(callback: ObservableCallbackLike): void;
}

/** What a batch callback reports into (`BatchObservableResult`). */
export interface BatchObservableResultLike {
  observe(observable: ObservableGaugeLike, value: number, attributes?: AttributesLike): void;
}

/** A callback that reports several observable instruments from one read. */
export type BatchObservableCallbackLike = (
  result: BatchObservableResultLike,
) => void | Promise<void>;

/** A meter (`Meter`). */
export interface MeterLike {
  createCounter(name: string, options?: { description?: string; unit?: string }): CounterLike;
  createHistogram(name: string, options?: { description?: string; unit?: string }): HistogramLike;
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): ObservableGaugeLike;
  addBatchObservableCallback(
    callback: BatchObservableCallbackLike,
    observables: ObservableGaugeLike[],
  ): void;
  removeBatchObservableCallback(
    callback: BatchObservableCallbackLike,
    observables: ObservableGaugeLike[],
  ): void;
}

/** A span (`Span`). */
export interface SpanLike {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** A tracer (`Tracer`). */
export interface TracerLike {
  startActiveSpan<F extends (span: SpanLike) => unknown>(
    name: string,
    options: { attributes?: AttributesLike },
    fn: F,
  ): ReturnType<F>;
}

/** The `@opentelemetry/api` module (its `metrics` and `trace` globals). */
export interface OtelApiLike {
  readonly metrics: { getMeter(name: string, version?: string): MeterLike };
  readonly trace: { getTracer(name: string, version?: string): TracerLike };
}
