/** Default output folder of the verifier page, relative to the package root. */
export declare const VERIFIER_OUT_DIR: string;
/** Builds the offline audit verifier page into `outDir` (default dist/web/verifier). */
export declare function buildVerifierPage(outDir?: string): Promise<{
  outDir: string;
  files: string[];
  bytes: { script: number; worker: number };
}>;
