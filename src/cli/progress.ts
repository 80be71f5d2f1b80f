/**
 * Progress lines for long CLI operations: written to stderr, and only when stderr is a terminal,
 * so piped or redirected runs (and `--json` consumers) see nothing but the result.
 */
import type { CliIo } from "./io.js";

/** A progress line that rewrites itself; `done()` erases it. */
export interface Progress {
  update(text: string): void;
  done(): void;
}

const NONE: Progress = { update: () => undefined, done: () => undefined };

/**
 * A progress line on `io.stderr` when it is a TTY, else one that does nothing. Updates are
 * throttled to one per 100 ms.
 *
 * @example
 * ```ts
 * const p = progressLine(io);
 * p.update("verified 65536 entries…");
 * p.done();
 * ```
 * @throws never.
 */
export function progressLine(io: CliIo, now: () => number = Date.now): Progress {
  if (!io.stderr.isTTY) return NONE;
  let shown = false;
  let last = -Infinity;
  return {
    update(text) {
      const t = now();
      if (t - last < 100) return;
      last = t;
      shown = true;
      io.stderr.write(`\r\x1b[K${text}`);
    },
    done() {
      if (shown) io.stderr.write("\r\x1b[K");
      shown = false;
    },
  };
}
