/**
 * `npx tsx examples/demo/metrics.ts [--out DIR]`: runs the demo (./main.ts) with keywarden's
 * observability on, collects every metric and span with the OpenTelemetry SDK's in-memory
 * exporters, and prints them as JSON on stdout once the demo has finished (the demo's own account
 * goes to stdout first, with --quiet to silence it). The sample in docs/observability.md comes
 * from this script.
 */
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { disableObservability, enableObservability } from "keywarden/observability";

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meters = new MeterProvider({ readers: [reader] });
const spanExporter = new InMemorySpanExporter();
const tracers = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spanExporter)],
});

await enableObservability({
  api: {
    metrics: { getMeter: (name, version) => meters.getMeter(name, version) },
    trace: { getTracer: (name, version) => tracers.getTracer(name, version) as never },
  },
});

let printed = false;
process.once("beforeExit", async () => {
  if (printed) return;
  printed = true;
  await reader.forceFlush();
  const metrics: Record<string, { attributes: unknown; value: unknown }[]> = {};
  for (const rm of metricExporter.getMetrics())
    for (const scope of rm.scopeMetrics)
      for (const m of scope.metrics)
        metrics[m.descriptor.name] = m.dataPoints.map((p) => {
          const v = p.value as number | { count: number; sum?: number; min?: number; max?: number };
          return {
            attributes: p.attributes,
            value:
              typeof v === "number"
                ? v
                : { count: v.count, sum: round(v.sum), min: round(v.min), max: round(v.max) },
          };
        });
  const spans: Record<string, number> = {};
  for (const s of spanExporter.getFinishedSpans()) spans[s.name] = (spans[s.name] ?? 0) + 1;
  disableObservability();
  await meters.shutdown();
  await tracers.shutdown();
  process.stdout.write(`\n${JSON.stringify({ metrics, spans }, null, 2)}\n`);
});

function round(n: number | undefined): number | undefined {
  return n === undefined ? undefined : Math.round(n * 1e5) / 1e5;
}

await import("./main.js");
