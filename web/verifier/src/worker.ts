/**
 * The verification worker: receives a {@link VerifyJob}, posts progress and the report. Built as
 * its own IIFE and embedded in the page script, which starts it from a blob: URL (file:// pages
 * cannot start workers from files).
 */
import { runJob } from "./job.js";
import type { VerifyJob, WorkerMessage } from "./protocol.js";

interface WorkerScope {
  onmessage: ((ev: MessageEvent<VerifyJob>) => void) | null;
  postMessage(message: WorkerMessage): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (ev) => {
  const job = ev.data;
  if (job?.type !== "verify") return;
  runJob(job, (p) => scope.postMessage({ type: "progress", ...p })).then(
    (report) => scope.postMessage({ type: "done", report }),
    (err: unknown) =>
      scope.postMessage({
        type: "error",
        message: err instanceof Error ? err.message : "the file could not be read",
      }),
  );
};
