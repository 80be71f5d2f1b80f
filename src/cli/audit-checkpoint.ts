/**
 * `keywarden audit checkpoint | prove`: the log operator's side of transparency — sign a
 * checkpoint of a stored chain, and print receipts (inclusion proofs) and consistency proofs
 * from the store.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { bytesEqual, toBase64, utf8 } from "../audit/primitives/portable.js";
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
import { println } from "./io.js";
import { type Command, EXIT } from "./run.js";
import { openStoreOption, STORE_OPTIONS, STORE_USAGE } from "./store-open.js";

/** `keywarden audit checkpoint`. */
export const checkpointCommand: Command = {
  summary: "Sign a checkpoint of a chain (refuses one inconsistent with the last signed)",
  usage: `Usage: keywarden audit checkpoint (--store URL | --store-env NAME) --chain ID --log-name NAME (--key FILE | --key-env VAR) [--out FILE]

Signs a C2SP tlog-checkpoint of the chain's current size, after proving it consistent with the
last checkpoint stored for the chain, records it in the store, and prints the signed note.
The store is opened for writing (stop the service that holds its lock, or let it publish).

Options:
${STORE_USAGE}
  --chain ID          operator, or user:<userId>
  --log-name NAME     deployment name; the origin is NAME/keywarden/<chain>
  --key FILE          signing key file (mode 0600)
  --key-env VAR       or: environment variable holding the key (default KEYWARDEN_AUDIT_SIGNING_KEY)
  --previous-vkey K   after a key rotation: the old key, so its checkpoints still count (repeatable)
  --out FILE          write the note to FILE instead of stdout
  --json              print {"ok":true,"chainId","size","note"} on stdout instead of the note
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...STORE_OPTIONS,
        chain: { type: "string" },
        "log-name": { type: "string" },
        key: { type: "string" },
        "key-env": { type: "string" },
        "previous-vkey": { type: "string", multiple: true },
        out: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.chain || !values["log-name"]) usageError("--chain and --log-name are required");
    const previousLogKeys = (values["previous-vkey"] ?? []).map((k) => parseVerifierKey(k));
    const signer = await loadSigner(io, values.key, values["key-env"]);
    const opened = await openStoreOption(values, io, { readOnly: false }).catch((err: unknown) => {
      signer.destroy();
      throw err;
    });
    const store = opened.store;
    try {
      const tree = await entryTreeReader(store, values.chain);
      const log = new TransparencyLog({
        store,
        signer,
        logName: values["log-name"],
        nodes: () => tree,
        previousLogKeys,
      });
      const signed = await log.signCheckpoint(values.chain);
      const note = signed.note;
      if (values.json) {
        if (values.out) await writeOutput(io, values.out, note);
        println(
          io.stdout,
          JSON.stringify({ ok: true, chainId: values.chain, size: signed.checkpoint.size, note }),
        );
      } else await writeOutput(io, values.out, note);
    } finally {
      signer.destroy();
      await opened.close();
    }
    return EXIT.ok;
  },
};

/** `keywarden audit prove`. */
export const proveCommand: Command = {
  summary: "Print a receipt (inclusion proof) for entry N, or a consistency proof",
  usage: `Usage: keywarden audit prove (--store URL | --store-env NAME) --chain ID --seq N [--checkpoint FILE] [--out FILE]
       keywarden audit prove (--store URL | --store-env NAME) --chain ID --from M [--to N]

With --seq: prints a c2sp.org/tlog-proof@v1 receipt for entry N against the checkpoint in FILE
(default: the latest checkpoint stored for the chain), carrying the entry body, verifiable offline
with 'keywarden audit verify-receipt'.
With --from: prints the RFC 9162 consistency proof from size M to size N (default: the chain's
current size), one base64 hash per line, for 'check-checkpoint --proof' and 'witness --proof'.

The store is opened read-only.

Options:
${STORE_USAGE}
  --chain ID          operator, or user:<userId>
  --seq N             entry to prove
  --checkpoint FILE   signed checkpoint to prove against
  --from M, --to N    sizes for a consistency proof
  --out FILE          write to FILE instead of stdout
  --json              print {"ok":true,"kind":"receipt","chainId","index","size","receipt"} or
                      {"ok":true,"kind":"consistency","chainId","from","to","proof":[base64…]}
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...STORE_OPTIONS,
        chain: { type: "string" },
        seq: { type: "string" },
        checkpoint: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.chain) usageError("--chain is required");
    if ((values.seq === undefined) === (values.from === undefined))
      usageError("give either --seq or --from");
    const chainId = values.chain;
    const opened = await openStoreOption(values, io, { readOnly: true });
    const store = opened.store;
    try {
      const reader = await entryTreeReader(store, chainId);
      if (values.from !== undefined) {
        const from = parseCount(values.from, "--from");
        const to = values.to === undefined ? reader.size : parseCount(values.to, "--to");
        const proof = await consistencyProof(reader, from, to);
        const lines = proof.map((h) => toBase64(h));
        if (values.json)
          println(
            io.stdout,
            JSON.stringify({ ok: true, kind: "consistency", chainId, from, to, proof: lines }),
          );
        else await writeOutput(io, values.out, lines.map((l) => `${l}\n`).join(""));
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
      if (values.json)
        println(
          io.stdout,
          JSON.stringify({
            ok: true,
            kind: "receipt",
            chainId,
            index: seq,
            size: cp.size,
            receipt,
          }),
        );
      else await writeOutput(io, values.out, receipt);
      return EXIT.ok;
    } finally {
      await opened.close();
    }
  },
};
