/**
 * `keywarden audit verify`: checks an audit export file (JSON Lines or CSV) entry by entry, and
 * optionally against a signed checkpoint (./audit-monitor.ts does that part).
 */
import { constants, createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { VerifyResult } from "../audit/core/index.js";
import { entryHash } from "../audit/core/portable.js";
import {
  type ExportFormat,
  readExport,
  type VerifyExportResult,
  verifyExport,
} from "../audit/export/index.js";
import { sha256Node } from "../audit/primitives/index.js";
import { fromHex, isHexHash } from "../audit/primitives/portable.js";
import { parseVerifierKey } from "../audit/transparency/portable.js";
import { KeywardenError } from "../errors.js";
import { usageError } from "./args.js";
import {
  type CheckpointCheckOutcome,
  type CheckpointVerifyValues,
  openCheckpointCheck,
} from "./audit-monitor.js";
import { verifyStoredChain } from "./audit-verify-store.js";
import type { CliIo } from "./io.js";
import { println } from "./io.js";
import { progressLine } from "./progress.js";
import { type Command, EXIT } from "./run.js";
import { STORE_OPTIONS, STORE_USAGE } from "./store-open.js";

const VERIFY_USAGE = `Usage: keywarden audit verify <file> [--head HASH --size N] [--vkey KEY...] [--format jsonl|csv] [--json]
       keywarden audit verify <file> --checkpoint FILE --vkey KEY [--witness KEY... --quorum K]
                              [--state FILE] [--max-age SECONDS]
       keywarden audit verify (--store URL | --store-env NAME) --chain ID [--head HASH --size N]
                              [--checkpoint FILE --vkey KEY ...] [--json]

Verifies an audit export (JSON Lines or CSV) entry by entry: hashes, links, payload commitments
and the manifest. Exits 0 only when the file is valid; otherwise prints the first broken entry.
With --checkpoint, the export must also match a checkpoint signed by the log's key (and by
K witnesses): a shorter export is reported as TRUNCATED, a different history as REWRITTEN. With
--state, the last verified checkpoint is remembered, and a later one must extend it.
With --vkey, the manifest's signature is checked against the same keys: without --checkpoint the
manifest MUST be signed by one of them; with --checkpoint (which already authenticates the
entries) an unsigned manifest is accepted, but a signed one must verify. Without --vkey a
manifest signature is not checked.
With --store and --chain, the chain is verified where it is stored (opened read-only), with the
same checks; --checkpoint then checks the stored entries against the signed checkpoint.

Options:
${STORE_USAGE}
  --chain ID         with --store: the chain to verify (operator, or user:<userId>)
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
  --json             one JSON object on stdout: {"ok":true,"chainId","size","headHash","redacted"
                     [,"manifest"][,"checkpoint"]} or {"ok":false,"seq","reason","message"[,"line"]}
                     ("checkpoint": {"ok","status"|"reason","message",...}); exit code as without
  -h, --help         this text`;

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
        ...STORE_OPTIONS,
        chain: { type: "string" },
      },
    });
    const fromStore = values.store !== undefined || values["store-env"] !== undefined;
    if (fromStore ? positionals.length !== 0 : positionals.length !== 1)
      usageError("verify takes exactly one <file>, or --store and --chain");
    if (fromStore !== (values.chain !== undefined)) usageError("--store and --chain go together");
    if (fromStore && values.format !== undefined) usageError("--format is for files");
    if (values.checkpoint === undefined && (values.witness || values.state))
      usageError("--witness and --state go with --checkpoint");
    const manifestKeys = values.vkey?.map((k) => parseVerifierKey(k));
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
    if (fromStore) {
      if (manifestKeys && values.checkpoint === undefined)
        usageError("--vkey without --checkpoint is for signed export files");
      const { result, checkpoint } = await verifyStoredChain(
        values,
        values.chain as string,
        io,
        expected,
        progressLine(io),
      );
      return report(io, values.json, result, checkpoint, false);
    }
    const file = positionals[0] as string;
    const format = (values.format ??
      (file.toLowerCase().endsWith(".csv") ? "csv" : "jsonl")) as ExportFormat;
    if (format !== "jsonl" && format !== "csv") usageError("--format must be jsonl or csv");
    const path = file.startsWith("/") ? file : `${io.cwd}/${file}`;
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", `cannot read ${file}`);
    }
    const progress = progressLine(io);
    const result = await verifyExport(createReadStream(path), {
      format,
      sha256: sha256Node,
      expected,
      onProgress: (n) => progress.update(`verified ${n} entries…`),
      manifestKeys,
      allowUnsignedManifest: values.checkpoint !== undefined,
    }).finally(() => progress.done());
    const checkpoint =
      result.ok && values.checkpoint !== undefined
        ? await checkAgainstCheckpoint(values, io, path, format, result.chainId ?? undefined)
        : undefined;
    return report(io, values.json, result, checkpoint, manifestKeys !== undefined);
  },
};

/** Prints a verification outcome (text or `--json`) and returns the exit code. */
function report(
  io: CliIo,
  json: boolean,
  result: VerifyExportResult | VerifyResult,
  checkpoint: CheckpointCheckOutcome | undefined,
  manifestKeys: boolean,
): number {
  if (json) {
    println(io.stdout, JSON.stringify(checkpoint ? { ...result, checkpoint } : result));
  } else if (result.ok) {
    println(
      io.stdout,
      `valid: ${result.chainId ?? "(empty)"}, ${result.size} entries, head ${result.headHash ?? "(none)"}${result.redacted ? `, ${result.redacted} redacted` : ""}`,
    );
    if (manifestKeys && "manifest" in result)
      println(
        io.stdout,
        result.manifest?.signature === undefined
          ? "manifest: unsigned (the checkpoint authenticates the entries)"
          : `manifest signature: ok (${result.manifest.origin})`,
      );
    else if ("manifest" in result && result.manifest?.signature !== undefined)
      // Signed, but no key to check it with: say so, rather than let "valid" imply it.
      println(io.stdout, "manifest signature: not checked (give the platform's key with --vkey)");
  } else {
    println(
      io.stderr,
      `BROKEN at seq ${result.seq}${result.line === undefined ? "" : ` (line ${result.line})`}: ${result.reason}: ${result.message}`,
    );
  }
  if (checkpoint && !json)
    println(checkpoint.ok ? io.stdout : io.stderr, `checkpoint: ${checkpoint.message}`);
  return result.ok && (checkpoint === undefined || checkpoint.ok) ? EXIT.ok : EXIT.failed;
}

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
