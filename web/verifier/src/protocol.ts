/** Messages between the page and the verification worker (structured-cloneable data only). */
import type { VerifyProgress, VerifyReport } from "./engine.js";
import type { HeadsInput } from "./heads.js";

/** Page → worker: one verification job. */
export interface VerifyJob {
  readonly type: "verify";
  readonly file: Blob;
  readonly fileName: string;
  readonly checkpoint?: string | undefined;
  readonly earlier?: string | undefined;
  readonly verifierKeys: readonly string[];
  readonly witnessKeys: readonly string[];
  readonly quorum?: number | undefined;
  readonly heads?: HeadsInput | undefined;
}

/** Worker → page. */
export type WorkerMessage =
  | ({ readonly type: "progress" } & VerifyProgress)
  | { readonly type: "done"; readonly report: VerifyReport }
  | { readonly type: "error"; readonly message: string };
