#!/usr/bin/env node
/**
 * Builds the offline audit verifier page (web/verifier) into dist/web/verifier/:
 *   index.html, verifier.css, verifier.js (one classic IIFE script: file:// pages cannot load
 *   module scripts, and cannot start workers from files, so the worker bundle is embedded in
 *   verifier.js as a string and started from a blob: URL).
 * The bundles contain the library's own verification code (src/audit/*), SHA-256 from
 * @noble/hashes and Ed25519 from @noble/curves; no Node built-in may end up in them (checked).
 *
 * Usage: node scripts/build-web.mjs [outDir]     (default dist/web/verifier)
 * Programmatic: import { buildVerifierPage } from "./scripts/build-web.mjs".
 */
import { copyFile, mkdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web", "verifier");

/** Default output folder, relative to the package root. */
export const VERIFIER_OUT_DIR = "dist/web/verifier";

const common = {
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["chrome111", "firefox119", "safari16.4"],
  minify: true,
  legalComments: "none",
  logLevel: "silent",
  metafile: true,
  write: false,
  absWorkingDir: root,
  // csv-parse/sync and csv-stringify/sync (imported by src/audit/export/reader.ts and csv.ts) use
  // Node's global Buffer; their browser builds carry a Buffer shim and behave the same.
  alias: {
    "csv-parse/sync": "csv-parse/browser/esm/sync",
    "csv-stringify/sync": "csv-stringify/browser/esm/sync",
  },
};

function assertBrowserOnly(metafile, what) {
  const bad = Object.keys(metafile.inputs).filter(
    (i) =>
      i.startsWith("node:") ||
      /src\/audit\/primitives\/sha256\.ts$/.test(i) ||
      i.includes("@types/node"),
  );
  if (bad.length > 0) throw new Error(`${what} bundle pulled in node-only code: ${bad.join(", ")}`);
}

/**
 * Builds the page into `outDir` (absolute, or relative to the package root).
 * @param {string} [outDir]
 * @returns {Promise<{ outDir: string, files: string[], bytes: { script: number, worker: number } }>}
 */
export async function buildVerifierPage(outDir = VERIFIER_OUT_DIR) {
  const out = resolve(root, outDir);
  const worker = await build({ ...common, entryPoints: [join(web, "src", "worker.ts")] });
  assertBrowserOnly(worker.metafile, "worker");
  const workerSource = worker.outputFiles[0].text;
  const page = await build({
    ...common,
    entryPoints: [join(web, "src", "main.ts")],
    define: { __KEYWARDEN_WORKER_SOURCE__: JSON.stringify(workerSource) },
    write: true,
    outfile: join(out, "verifier.js"),
  });
  assertBrowserOnly(page.metafile, "page");
  await mkdir(out, { recursive: true });
  await copyFile(join(web, "index.html"), join(out, "index.html"));
  await copyFile(join(web, "verifier.css"), join(out, "verifier.css"));
  const script = (await stat(join(out, "verifier.js"))).size;
  return {
    outDir: out,
    files: ["index.html", "verifier.css", "verifier.js"],
    bytes: { script, worker: Buffer.byteLength(workerSource) },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const r = await buildVerifierPage(process.argv[2]);
  process.stdout.write(
    `verifier page: ${r.outDir} (verifier.js ${(r.bytes.script / 1024).toFixed(0)} KiB, of which worker ${(r.bytes.worker / 1024).toFixed(0)} KiB)\n`,
  );
}
