import type { RecordedRequest, RequestFilter, RequestLog } from "./types.js";

/** An append-only request log with filtered counts. */
export class MemoryRequestLog implements RequestLog {
  readonly #entries: RecordedRequest[] = [];

  record(entry: RecordedRequest): void {
    this.#entries.push(Object.freeze({ ...entry }));
  }

  all(): readonly RecordedRequest[] {
    return [...this.#entries];
  }

  count(filter: RequestFilter = {}): number {
    return this.#entries.filter(
      (e) =>
        (filter.exchange === undefined || e.exchange === filter.exchange) &&
        (filter.endpoint === undefined || e.endpoint === filter.endpoint) &&
        (filter.apiKey === undefined || e.apiKey === filter.apiKey) &&
        (filter.outcome === undefined || e.outcome === filter.outcome) &&
        (filter.authFailure === undefined || e.authFailure === filter.authFailure),
    ).length;
  }

  clear(): void {
    this.#entries.length = 0;
  }
}
