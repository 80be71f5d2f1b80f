/** Runs one {@link VerifyJob}: shared by the worker and the on-page fallback. */
import { blobChunks } from "./blob-source.js";
import { runVerification, type VerifyProgress, type VerifyReport } from "./engine.js";
import type { VerifyJob } from "./protocol.js";

/** Runs `job`, reporting progress at most every `intervalMs`. */
export function runJob(
  job: VerifyJob,
  onProgress: (p: VerifyProgress) => void,
  intervalMs = 50,
): Promise<VerifyReport> {
  let last = 0;
  return runVerification(
    {
      exportName: job.fileName,
      exportSize: job.file.size,
      openExport: () => blobChunks(job.file),
      checkpoint: job.checkpoint,
      earlier: job.earlier,
      verifierKeys: job.verifierKeys,
      witnessKeys: job.witnessKeys,
      quorum: job.quorum,
      heads: job.heads,
    },
    (p) => {
      const now = Date.now();
      if (now - last < intervalMs && p.bytes < p.total) return;
      last = now;
      onProgress(p);
    },
  );
}
