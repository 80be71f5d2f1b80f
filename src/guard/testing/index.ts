/**
 * `keywarden/guard/testing`: the isolation kit. Give it a handler surface; it proves user A
 * cannot read, modify or trigger a side effect on user B's data through any handler on it, with
 * the guard on and with the guard layer switched off (storage alone).
 *
 * This is the only public door to the guard-off switch: production entry points do not export it.
 *
 * @packageDocumentation
 */
export { type AssertIsolationError, assertIsolation, formatFindings } from "./assert.js";
export { dumpTable, overwriteRow } from "./memory.js";
export { type PgQueryable, snapshotPgTables } from "./postgres.js";
export { createEffectRecorder, recordCalls } from "./recorder.js";
export { type IsolationOptions, runIsolationSuite } from "./suite.js";
export type {
  EffectRecorder,
  EntryPoint,
  HandlerProbe,
  IdSlot,
  IsolationFinding,
  IsolationReport,
  IsolationSeed,
  IsolationSurface,
  RecordedEffect,
  SeededUser,
  TamperRequest,
} from "./surface.js";
