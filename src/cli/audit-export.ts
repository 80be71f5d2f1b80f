/**
 * `keywarden audit export`: writes one stored chain as JSON Lines or CSV with its manifest,
 * verified while it is written, optionally with a signed manifest.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { unlink } from "node:fs/promises";
import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { AuditLog } from "../audit/core/index.js";
import { type ExportManifest, exportChain } from "../audit/export/index.js";
import type { LocalEd25519Signer } from "../audit/transparency/index.js";
import { usageError } from "./args.js";
import { loadSigner } from "./audit-signing-key.js";
import { type CliIo, println } from "./io.js";
import { type Progress, progressLine } from "./progress.js";
import { type Command, EXIT } from "./run.js";
import { openStoreOption, STORE_OPTIONS, STORE_USAGE } from "./store-open.js";

const EXPORT_USAGE = `Usage: keywarden audit export (--store URL | --store-env NAME) --chain ID --format jsonl|csv
                             [--out FILE [--json]] [--key FILE | --key-env VAR] [--log-name NAME]

Exports one chain, verified while it is written, with its manifest as the first record.
With --key or --key-env the manifest is signed (a C2SP signed-note signature over the chain id,
size, head hash and origin); verify it with 'keywarden audit verify FILE --vkey KEY'.
The store is opened read-only (the file store without its lock: works beside running writers).
The same chain exports to the same bytes from every kind of store.

Options:
${STORE_USAGE}
  --chain ID         chain id: operator, or user:<userId>
  --format F         jsonl or csv
  --out FILE         write to FILE (created with mode 0600) instead of stdout
  --json             with --out: print {"ok":true,"chainId","size","headHash","format","bytes",
                     "signed"} on stdout
  --key FILE         sign the manifest with this signing key file (mode 0600)
  --key-env VAR      or: with the key in this environment variable (removed once read)
  --log-name NAME    deployment name; the signed origin is NAME/keywarden/<chain>
                     (default: the key's name)
  -h, --help         this text`;

/**
 * The manifest signer named by `--key FILE` or `--key-env VAR` (the variable is removed once
 * read), or undefined when neither is given.
 */
async function exportSigner(
  io: CliIo,
  keyFile: string | undefined,
  keyEnv: string | undefined,
): Promise<LocalEd25519Signer | undefined> {
  if (keyFile !== undefined && keyEnv !== undefined)
    usageError("give --key or --key-env, not both");
  if (keyFile === undefined && keyEnv === undefined) return undefined;
  return loadSigner(io, keyFile, keyEnv);
}

/** Writes every chunk (respecting back-pressure); returns the number of bytes written. */
async function writeAll(
  out: Writable,
  chunks: AsyncIterable<string>,
  progress: Progress,
): Promise<number> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk);
    progress.update(`exported ${(bytes / 1_048_576).toFixed(1)} MiB…`);
    if (!out.write(chunk)) await once(out, "drain");
  }
  return bytes;
}

/** `keywarden audit export`. */
export const exportCommand: Command = {
  summary: "Export one chain as JSON Lines or CSV, with its manifest",
  usage: EXPORT_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        ...STORE_OPTIONS,
        chain: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        key: { type: "string" },
        "key-env": { type: "string" },
        "log-name": { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    void positionals;
    if (values.json && !values.out) usageError("--json needs --out (stdout carries the export)");
    if (!values.chain || !values.format) usageError("--chain and --format are required");
    if (values.format !== "jsonl" && values.format !== "csv")
      usageError("--format must be jsonl or csv");
    if (values["log-name"] !== undefined && !values.key && !values["key-env"])
      usageError("--log-name goes with --key or --key-env");
    const signer = await exportSigner(io, values.key, values["key-env"]);
    const opened = await openStoreOption(values, io, { readOnly: true }).catch((err: unknown) => {
      signer?.destroy();
      throw err;
    });
    try {
      const log = new AuditLog({ store: opened.store });
      let manifest: ExportManifest | undefined;
      const chunks = exportChain(log, values.chain, {
        format: values.format,
        signer,
        logName: values["log-name"],
        // Only observes the manifest for --json; adds no field.
        annotateManifest: async (m) => {
          manifest = m;
          return {};
        },
      });
      const progress = progressLine(io);
      let bytes = 0;
      if (values.out) {
        const path = values.out.startsWith("/") ? values.out : `${io.cwd}/${values.out}`;
        const out = createWriteStream(path, { mode: 0o600 });
        let done = false;
        try {
          bytes = await writeAll(out, chunks, progress);
          done = true;
        } finally {
          progress.done();
          out.end();
          await once(out, "close");
          // Never leave a partial export that looks complete.
          if (!done) await unlink(path).catch(() => undefined);
        }
      } else {
        bytes = await writeAll(io.stdout, chunks, progress);
        progress.done();
      }
      if (values.json)
        println(
          io.stdout,
          JSON.stringify({
            ok: true,
            chainId: values.chain,
            size: manifest?.size ?? null,
            headHash: manifest?.headHash ?? null,
            format: values.format,
            bytes,
            signed: signer !== undefined,
          }),
        );
    } finally {
      signer?.destroy();
      await opened.close();
    }
    return EXIT.ok;
  },
};
