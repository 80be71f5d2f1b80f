/**
 * `keywarden audit …`: verify and export audit chains. The transparency subcommands (keygen,
 * checkpoint, prove, witness) live in ./audit-transparency.ts and are merged in here.
 */
import { once } from "node:events";
import { constants, createReadStream, createWriteStream } from "node:fs";
import { access, unlink } from "node:fs/promises";
import type { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { AuditLog } from "../audit/core/index.js";
import { entryHash } from "../audit/core/portable.js";
import { type ExportFormat, exportChain, readExport, verifyExport } from "../audit/export/index.js";
import { sha256Node } from "../audit/primitives/index.js";
import { fromHex, isHexHash } from "../audit/primitives/portable.js";
import { openFileAuditStore } from "../audit/storage/file/index.js";
import type { AuditStore } from "../audit/storage/index.js";
import type { LocalEd25519Signer } from "../audit/transparency/index.js";
import { parseVerifierKey } from "../audit/transparency/portable.js";
import { KeywardenError } from "../errors.js";
import { migrateCommand } from "./audit-migrate.js";
import {
  type CheckpointCheckOutcome,
  type CheckpointVerifyValues,
  loadSigner,
  openCheckpointCheck,
  transparencyCommands,
} from "./audit-transparency.js";
import type { CliIo } from "./io.js";
import { println } from "./io.js";
import { type Command, type CommandGroup, EXIT } from "./run.js";

const VERIFY_USAGE = `Usage: keywarden audit verify <file> [--head HASH --size N] [--vkey KEY...] [--format jsonl|csv] [--json]
       keywarden audit verify <file> --checkpoint FILE --vkey KEY [--witness KEY... --quorum K]
                              [--state FILE] [--max-age SECONDS]

Verifies an audit export (JSON Lines or CSV) entry by entry: hashes, links, payload commitments
and the manifest. Exits 0 only when the file is valid; otherwise prints the first broken entry.
With --checkpoint, the export must also match a checkpoint signed by the log's key (and by
K witnesses): a shorter export is reported as TRUNCATED, a different history as REWRITTEN. With
--state, the last verified checkpoint is remembered, and a later one must extend it.
With --vkey, the manifest's signature is checked against the same keys: without --checkpoint the
manifest MUST be signed by one of them; with --checkpoint (which already authenticates the
entries) an unsigned manifest is accepted, but a signed one must verify. Without --vkey a
manifest signature is not checked.

Options:
  --head HASH        expected head hash (hex), obtained out of band (e.g. a published checkpoint)
  --size N           expected number of entries; with --head, detects truncation and rewrites
  --format F         jsonl or csv (default: from the file extension, .csv means csv)
  --checkpoint FILE  a signed checkpoint (C2SP signed note) of the chain
  --vkey KEY         the log's published verifier key (repeat for a rotated key); checks the
                     manifest signature, and the checkpoint's
  --witness KEY      a witness's cosignature verifier key (repeatable)
  --quorum K         witness cosignatures required (default: all --witness keys)
  --state FILE       remember the last verified checkpoint; the next must be consistent with it
  --max-age SECONDS  refuse a checkpoint older than this (a frozen log)
  --json             machine-readable result on stdout
  -h, --help         this text`;

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

function usageError(message: string): never {
  throw Object.assign(new Error(message), { code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" });
}

function progress(io: CliIo): ((n: number) => void) | undefined {
  if (!io.stderr.isTTY) return undefined;
  return (n) => io.stderr.write(`\rverified ${n} entries…`);
}

/** `keywarden audit verify`. */
export const verifyCommand: Command = {
  summary: "Verify an audit export file (JSON Lines or CSV)",
  usage: VERIFY_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        head: { type: "string" },
        size: { type: "string" },
        format: { type: "string" },
        json: { type: "boolean", default: false },
        checkpoint: { type: "string" },
        vkey: { type: "string", multiple: true },
        witness: { type: "string", multiple: true },
        quorum: { type: "string" },
        state: { type: "string" },
        "max-age": { type: "string" },
      },
    });
    if (positionals.length !== 1) usageError("verify takes exactly one <file>");
    if (values.checkpoint === undefined && (values.witness || values.state))
      usageError("--witness and --state go with --checkpoint");
    const manifestKeys = values.vkey?.map((k) => parseVerifierKey(k));
    const file = positionals[0] as string;
    if ((values.head === undefined) !== (values.size === undefined))
      usageError("--head and --size go together");
    let expected: { size: number; headHash: string | null } | undefined;
    if (values.size !== undefined) {
      const size = Number(values.size);
      if (!/^\d+$/.test(values.size) || !Number.isSafeInteger(size))
        usageError("--size must be a non-negative integer");
      const head = values.head?.toLowerCase();
      if (size === 0 ? head !== "" && head !== "null" : !isHexHash(head))
        usageError("--head must be a 64-character hex hash");
      expected = { size, headHash: size === 0 ? null : (head as string) };
    }
    const format = (values.format ??
      (file.toLowerCase().endsWith(".csv") ? "csv" : "jsonl")) as ExportFormat;
    if (format !== "jsonl" && format !== "csv") usageError("--format must be jsonl or csv");
    const path = file.startsWith("/") ? file : `${io.cwd}/${file}`;
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", `cannot read ${file}`);
    }
    const onProgress = progress(io);
    const result = await verifyExport(createReadStream(path), {
      format,
      sha256: sha256Node,
      expected,
      onProgress,
      manifestKeys,
      allowUnsignedManifest: values.checkpoint !== undefined,
    });
    if (onProgress) io.stderr.write("\r\x1b[K");
    const checkpoint =
      result.ok && values.checkpoint !== undefined
        ? await checkAgainstCheckpoint(values, io, path, format, result.chainId ?? undefined)
        : undefined;
    if (values.json) {
      println(io.stdout, JSON.stringify(checkpoint ? { ...result, checkpoint } : result));
    } else if (result.ok) {
      println(
        io.stdout,
        `valid: ${result.chainId ?? "(empty)"}, ${result.size} entries, head ${result.headHash ?? "(none)"}${result.redacted ? `, ${result.redacted} redacted` : ""}`,
      );
      if (manifestKeys)
        println(
          io.stdout,
          result.manifest?.signature === undefined
            ? "manifest: unsigned (the checkpoint authenticates the entries)"
            : `manifest signature: ok (${result.manifest.origin})`,
        );
    } else {
      println(
        io.stderr,
        `BROKEN at seq ${result.seq}${result.line === undefined ? "" : ` (line ${result.line})`}: ${result.reason}: ${result.message}`,
      );
    }
    if (checkpoint && !values.json)
      println(checkpoint.ok ? io.stdout : io.stderr, `checkpoint: ${checkpoint.message}`);
    return result.ok && (checkpoint === undefined || checkpoint.ok) ? EXIT.ok : EXIT.failed;
  },
};

/**
 * After the export itself verified: checks it against a signed checkpoint (and the remembered
 * state, if given) by streaming the export's entry hashes — recomputed from the entry text, not
 * taken from the file — into the transparency check, in O(log n) memory.
 */
async function checkAgainstCheckpoint(
  values: CheckpointVerifyValues,
  io: CliIo,
  path: string,
  format: ExportFormat,
  chainId: string | undefined,
): Promise<CheckpointCheckOutcome> {
  const check = await openCheckpointCheck(values, io, chainId);
  if (!check.failed) {
    check.expectLeaves();
    for await (const record of readExport(createReadStream(path), { format })) {
      if (record.kind !== "entry") continue;
      if (!check.push(fromHex(entryHash(record.item.body, sha256Node)) as Uint8Array)) break;
    }
  }
  return check.finish();
}

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

/** The `audit` command group. */
export const audit: CommandGroup = {
  summary: "Verify and export tamper-evident audit chains",
  commands: {
    verify: verifyCommand,
    export: exportCommand,
    migrate: migrateCommand,
    ...transparencyCommands,
  },
};
