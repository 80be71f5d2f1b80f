/**
 * `keywarden audit witness`: a minimal C2SP tlog-witness that checks a log's checkpoint against
 * the last one it saw and cosigns it.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { fileWitnessState } from "../audit/transparency/index.js";
import {
  createCosigner,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  witnessCheckpoint,
} from "../audit/transparency/portable.js";
import { readProofFile, resolvePath, usageError, writeOutput } from "./args.js";
import { loadSigner } from "./audit-signing-key.js";
import { println } from "./io.js";
import { type Command, EXIT } from "./run.js";

/** `keywarden audit witness`. */
export const witnessCommand: Command = {
  summary: "Act as a witness: check a checkpoint against the last one seen and cosign it",
  usage: `Usage: keywarden audit witness --checkpoint FILE --log-vkey KEY --state FILE (--key FILE | --key-env VAR) [--proof FILE] [--out FILE] [--json]

A minimal C2SP tlog-witness: verifies the log's signature, refuses a smaller tree (rollback) or a
different root at the same size (fork), requires a consistency proof from the size it last saw
(keywarden audit prove --from), records the new checkpoint in the state file, and prints the
checkpoint with its timestamped Ed25519 cosignature (tlog-cosignature v1) appended.
Generate the witness key with 'keywarden audit keygen --cosigner' and publish the key it prints.

Options:
  --checkpoint FILE   the log's signed checkpoint
  --log-vkey KEY      verifier key of a log this witness follows (repeatable)
  --state FILE        the witness's memory (created on first run)
  --key FILE          witness signing key file; or --key-env VAR
  --proof FILE        consistency proof from the last seen size (base64 lines)
  --out FILE          write the cosigned checkpoint to FILE instead of stdout
  --json              print {"ok":true,"note"} or {"ok":false,"reason"[,"knownSize"]} on stdout
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        checkpoint: { type: "string" },
        "log-vkey": { type: "string", multiple: true },
        state: { type: "string" },
        key: { type: "string" },
        "key-env": { type: "string" },
        proof: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.checkpoint || !values.state || !values["log-vkey"]?.length)
      usageError("--checkpoint, --log-vkey and --state are required");
    const logs: Record<string, ReturnType<typeof parseVerifierKey>[]> = {};
    for (const k of values["log-vkey"]) {
      const v = parseVerifierKey(k);
      // By convention the log's key name is its origin's log name; accept any origin under it.
      const list = logs[v.name] ?? [];
      list.push(v);
      logs[v.name] = list;
    }
    const note = await readFile(resolvePath(io, values.checkpoint), "utf8");
    let origin: string;
    try {
      origin = parseCheckpoint(parseNote(note).text).origin;
    } catch {
      if (values.json) println(io.stdout, JSON.stringify({ ok: false, reason: "bad-signature" }));
      else println(io.stderr, "witness refused: bad-signature");
      return EXIT.failed;
    }
    const keys = Object.entries(logs)
      .filter(([name]) => origin === name || origin.startsWith(`${name}/`))
      .flatMap(([, v]) => v);
    const signer = await loadSigner(io, values.key, values["key-env"]);
    try {
      const proof = values.proof ? await readProofFile(io, values.proof) : [];
      const r = await witnessCheckpoint({
        note,
        proof,
        logs: keys.length ? { [origin]: keys } : {},
        state: fileWitnessState(resolvePath(io, values.state)),
        cosigner: createCosigner(signer),
      });
      if (!r.ok) {
        if (values.json) {
          println(
            io.stdout,
            JSON.stringify({
              ok: false,
              reason: r.reason,
              ...(r.knownSize === undefined ? {} : { knownSize: r.knownSize }),
            }),
          );
          return EXIT.failed;
        }
        println(
          io.stderr,
          `witness refused: ${r.reason}${r.knownSize === undefined ? "" : ` (last seen size ${r.knownSize})`}`,
        );
        return EXIT.failed;
      }
      if (values.json) {
        if (values.out) await writeOutput(io, values.out, r.note);
        println(io.stdout, JSON.stringify({ ok: true, note: r.note }));
      } else await writeOutput(io, values.out, r.note);
      return EXIT.ok;
    } finally {
      signer.destroy();
    }
  },
};
