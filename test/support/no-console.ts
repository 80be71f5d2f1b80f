import { afterEach, beforeEach, vi } from "vitest";

/**
 * The library never writes to the console (STYLE §10). Any test during which something calls a
 * console method fails, naming what was written — a secret printed by mistake shows up here first.
 */
const methods = ["log", "info", "warn", "error", "debug", "trace", "dir", "table"] as const;
let writes: string[] = [];

beforeEach(() => {
  writes = [];
  for (const m of methods) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      writes.push(`console.${m}(${args.length} argument${args.length === 1 ? "" : "s"})`);
    });
  }
});

afterEach(() => {
  for (const m of methods) (console[m] as unknown as { mockRestore?: () => void }).mockRestore?.();
  if (writes.length > 0) {
    const seen = writes.join(", ");
    writes = [];
    throw new Error(`test wrote to the console: ${seen}`);
  }
});
