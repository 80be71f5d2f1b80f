/**
 * `keywarden audit checkpoint | prove`: the log operator's side of transparency — sign a
 * checkpoint of a stored chain, and print receipts (inclusion proofs) and consistency proofs
 * from the store.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { bytesEqual, toBase64, utf8 } from "../audit/primitives/portable.js";
import { openFileAuditStore } from "../audit/storage/file/index.js";
import type { AuditStore } from "../audit/storage/index.js";
import {
  consistencyProof,
  entryTreeReader,
  formatReceipt,
  inclusionProof,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  rootAtSize,
  TransparencyLog,
} from "../audit/transparency/portable.js";
import { KeywardenError } from "../errors.js";
import { parseCount, resolvePath, usageError, writeOutput } from "./args.js";
import { loadSigner } from "./audit-signing-key.js";
import type { CliIo } from "./io.js";
import { type Command, EXIT } from "./run.js";

async function openStore(
  io: CliIo,
  url: string | undefined,
  readOnly: boolean,
): Promise<AuditStore> {
  if (!url) usageError("--store file:PATH is required");
  if (!url.startsWith("file:") || url.length === 5) usageError("--store must be file:PATH");
  return openFileAuditStore(resolvePath(io, url.slice(5)), { readOnly });
}

/** `keywarden audit checkpoint`. */
export const checkpointCommand: Command = {
  summary: "Sign a checkpoint of a chain (refuses one inconsistent with the last signed)",
  usage: `Usage: keywarden audit checkpoint --store file:PATH --chain ID --log-name NAME (--key FILE | --key-env VAR) [--out FILE]

Signs a C2SP tlog-checkpoint of the chain's current size, after proving it consistent with the
last checkpoint stored for the chain, records it in the store, and prints the signed note.
The store is opened for writing (stop the service that holds its lock, or let it publish).

Options:
  --store file:PATH   the audit store
  --chain ID          operator, or user:<userId>
  --log-name NAME     deployment name; the origin is NAME/keywarden/<chain>
  --key FILE          signing key file (mode 0600)
  --key-env VAR       or: environment variable holding the key (default KEYWARDEN_AUDIT_SIGNING_KEY)
  --previous-vkey K   after a key rotation: the old key, so its checkpoints still count (repeatable)
  --out FILE          write the note to FILE instead of stdout
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        store: { type: "string" },
        chain: { type: "string" },
        "log-name": { type: "string" },
        key: { type: "string" },
        "key-env": { type: "string" },
        "previous-vkey": { type: "string", multiple: true },
        out: { type: "string" },
      },
    });
    if (!values.chain || !values["log-name"]) usageError("--chain and --log-name are required");
    const previousLogKeys = (values["previous-vkey"] ?? []).map((k) => parseVerifierKey(k));
    const signer = await loadSigner(io, values.key, values["key-env"]);
    const store = await openStore(io, values.store, false);
    try {
      const tree = await entryTreeReader(store, values.chain);
      const log = new TransparencyLog({
        store,
        signer,
        logName: values["log-name"],
        nodes: () => tree,
        previousLogKeys,
      });
      const { note } = await log.signCheckpoint(values.chain);
      await writeOutput(io, values.out, note);
    } finally {
      signer.destroy();
      await store.close?.();
    }
    return EXIT.ok;
  },
};

/** `keywarden audit prove`. */
export const proveCommand: Command = {
  summary: "Print a receipt (inclusion proof) for entry N, or a consistency proof",
  usage: `Usage: keywarden audit prove --store file:PATH --chain ID --seq N [--checkpoint FILE] [--out FILE]
       keywarden audit prove --store file:PATH --chain ID --from M [--to N]

With --seq: prints a c2sp.org/tlog-proof@v1 receipt for entry N against the checkpoint in FILE
(default: the latest checkpoint stored for the chain), carrying the entry body, verifiable offline
with 'keywarden audit verify-receipt'.
With --from: prints the RFC 9162 consistency proof from size M to size N (default: the chain's
current size), one base64 hash per line, for 'check-checkpoint --proof' and 'witness --proof'.

Options:
  --store file:PATH   the audit store (opened read-only)
  --chain ID          operator, or user:<userId>
  --seq N             entry to prove
  --checkpoint FILE   signed checkpoint to prove against
  --from M, --to N    sizes for a consistency proof
  --out FILE          write to FILE instead of stdout
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        store: { type: "string" },
        chain: { type: "string" },
        seq: { type: "string" },
        checkpoint: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        out: { type: "string" },
      },
    });
    if (!values.chain) usageError("--chain is required");
    if ((values.seq === undefined) === (values.from === undefined))
      usageError("give either --seq or --from");
    const chainId = values.chain;
    const store = await openStore(io, values.store, true);
    try {
      const reader = await entryTreeReader(store, chainId);
      if (values.from !== undefined) {
        const from = parseCount(values.from, "--from");
        const to = values.to === undefined ? reader.size : parseCount(values.to, "--to");
        const proof = await consistencyProof(reader, from, to);
        await writeOutput(io, values.out, proof.map((h) => `${toBase64(h)}\n`).join(""));
        return EXIT.ok;
      }
      const seq = parseCount(values.seq, "--seq");
      const note = values.checkpoint
        ? await readFile(resolvePath(io, values.checkpoint), "utf8")
        : (await store.latestCheckpoint?.(chainId))?.note;
      if (!note)
        throw new KeywardenError(
          "ERR_AUDIT_CHECKPOINT_INVALID",
          "no checkpoint: sign one with 'keywarden audit checkpoint'",
        );
      const cp = parseCheckpoint(parseNote(note).text);
      if (cp.size > reader.size || !bytesEqual(await rootAtSize(reader, cp.size), cp.rootHash))
        throw new KeywardenError(
          "ERR_AUDIT_INCONSISTENT_CHECKPOINT",
          "the store does not match this checkpoint",
        );
      if (seq >= cp.size) usageError("--seq is not covered by the checkpoint");
      const proof = await inclusionProof(reader, seq, cp.size);
      const receipt = formatReceipt({
        extra: utf8(await reader.body(seq)),
        index: seq,
        proof,
        checkpointNote: note,
      });
      await writeOutput(io, values.out, receipt);
      return EXIT.ok;
    } finally {
      await store.close?.();
    }
  },
};
