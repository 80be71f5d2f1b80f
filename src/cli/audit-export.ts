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
import { exportChain } from "../audit/export/index.js";
import { openFileAuditStore } from "../audit/storage/file/index.js";
import type { AuditStore } from "../audit/storage/index.js";
import type { LocalEd25519Signer } from "../audit/transparency/index.js";
import { KeywardenError } from "../errors.js";
import { usageError } from "./args.js";
import { loadSigner } from "./audit-signing-key.js";
import type { CliIo } from "./io.js";
import { type Command, EXIT } from "./run.js";

const EXPORT_USAGE = `Usage: keywarden audit export --store file:PATH --chain ID --format jsonl|csv [--out FILE]
                              [--key FILE | --key-env VAR] [--log-name NAME]

Exports one chain, verified while it is written, with its manifest as the first record.
With --key or --key-env the manifest is signed (a C2SP signed-note signature over the chain id,
size, head hash and origin); verify it with 'keywarden audit verify FILE --vkey KEY'.
The file store is opened read-only (no lock; works beside running writers).

Options:
  --store URL      the audit store: file:PATH (the JSONL file store)
  --chain ID       chain id: operator, or user:<userId>
  --format F       jsonl or csv
  --out FILE       write to FILE (created with mode 0600) instead of stdout
  --key FILE       sign the manifest with this signing key file (mode 0600)
  --key-env VAR    or: with the key in this environment variable (removed once read)
  --log-name NAME  deployment name; the signed origin is NAME/keywarden/<chain>
                   (default: the key's name)
  -h, --help       this text`;

/**
 * Opens the store named by `--store`. Only `file:PATH` is built in.
 *
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` for other schemes.
 */
export async function openStoreUrl(
  url: string,
  cwd: string,
): Promise<AuditStore & { close?(): Promise<void> }> {
  if (url.startsWith("file:")) {
    const path = url.slice(5);
    if (path.length === 0) usageError("--store file:PATH needs a path");
    return openFileAuditStore(path.startsWith("/") ? path : `${cwd}/${path}`, { readOnly: true });
  }
  throw new KeywardenError("ERR_NOT_SUPPORTED", "unsupported --store (use file:PATH)");
}

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

async function writeAll(out: Writable, chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks) if (!out.write(chunk)) await once(out, "drain");
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
        store: { type: "string" },
        chain: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        key: { type: "string" },
        "key-env": { type: "string" },
        "log-name": { type: "string" },
      },
    });
    void positionals;
    if (!values.store || !values.chain || !values.format)
      usageError("--store, --chain and --format are required");
    if (values.format !== "jsonl" && values.format !== "csv")
      usageError("--format must be jsonl or csv");
    if (values["log-name"] !== undefined && !values.key && !values["key-env"])
      usageError("--log-name goes with --key or --key-env");
    const signer = await exportSigner(io, values.key, values["key-env"]);
    const store = await openStoreUrl(values.store, io.cwd).catch((err: unknown) => {
      signer?.destroy();
      throw err;
    });
    try {
      const log = new AuditLog({ store });
      const chunks = exportChain(log, values.chain, {
        format: values.format,
        signer,
        logName: values["log-name"],
      });
      if (values.out) {
        const path = values.out.startsWith("/") ? values.out : `${io.cwd}/${values.out}`;
        const out = createWriteStream(path, { mode: 0o600 });
        let done = false;
        try {
          await writeAll(out, chunks);
          done = true;
        } finally {
          out.end();
          await once(out, "close");
          // Never leave a partial export that looks complete.
          if (!done) await unlink(path).catch(() => undefined);
        }
      } else {
        await writeAll(io.stdout, chunks);
      }
    } finally {
      signer?.destroy();
      await store.close?.();
    }
    return EXIT.ok;
  },
};
