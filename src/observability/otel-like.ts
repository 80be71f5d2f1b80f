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

/** A meter (`Meter`). */
export interface MeterLike {
  createCounter(name: string, options?: { description?: string; unit?: string }): CounterLike;
  createHistogram(name: string, options?: { description?: string; unit?: string }): HistogramLike;
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
