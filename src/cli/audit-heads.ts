/**
 * `keywarden audit verify-heads-receipt`: checks a user's chain checkpoint through the operator's
 * heads log — the chain checkpoint's own signature, the heads receipt under a k-of-n witnessed
 * heads checkpoint, and (with --heads-state) the remembered per-chain state across heads
 * checkpoints (fork: two roots at one size; shrink: a smaller chain later in the heads log).
 * Merged into the `audit` group by ./audit-transparency.ts.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { parseArgs } from "node:util";
import {
  checkHeadsReceipt,
  cosignatureVerifier,
  type HeadsChainState,
  observeHead,
  parseChainKey,
  parseVerifierKey,
  verifyCosignedCheckpoint,
  verifyHeadsReceipt,
} from "../audit/transparency/portable.js";
import { isKeywardenError, KeywardenError } from "../errors.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

const at = (io: CliIo, p: string) => (isAbsolute(p) ? p : join(io.cwd, p));

const verifyHeadsReceiptCommand: Command = {
  summary: "Verify a chain checkpoint's heads receipt (witnessed heads log, fork detection)",
  usage: `Usage: keywarden audit verify-heads-receipt FILE --checkpoint FILE --vkey KEY --chain-key B64
         --heads-vkey KEY [--witness VKEY... --quorum K] [--heads-origin ORIGIN] [--heads-state FILE] [--json]

FILE is the heads receipt delivered with your chain checkpoint. Checks the chain checkpoint's
signature (--vkey), the heads checkpoint's signature (--heads-vkey) and K of the --witness
cosignatures, the inclusion of the chain's heads leaf, and that the leaf names your chain (by
--chain-key, delivered with your first checkpoint) at the checkpoint's size, root and time. With
--heads-state, also compares with what you saw before: a second root for one chain size is a
FORK, a smaller chain later in the heads log is a SHRINK; on success the state file is updated.
Exits 0 only when everything verifies.

Options:
  --checkpoint FILE     your chain's signed checkpoint note
  --vkey KEY            your chain log's verifier key (repeat for rotated keys)
  --chain-key B64       your chain key for the heads log
  --heads-vkey KEY      the heads log's verifier key (repeatable)
  --witness VKEY        a witness cosignature key of the heads log (repeatable)
  --quorum K            how many of the witnesses must cosign (default: all)
  --heads-origin ORIGIN pin the heads log's origin
  --heads-state FILE    remembered per-chain state (created on first run)
  --json                print {"ok":true,"finding":null,"chain","heads"} on stdout, or
                        {"ok":false,"finding":"fork"|"shrink",…} for a remembered-state finding,
                        or {"ok":false,"reason","code","message"} when the receipt does not verify
                        (reason: malformed, heads-signature, witness-quorum, inclusion,
                        not-this-chain, fork, time-mismatch)
  -h, --help            this text`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        checkpoint: { type: "string" },
        vkey: { type: "string", multiple: true },
        "chain-key": { type: "string" },
        "heads-vkey": { type: "string", multiple: true },
        witness: { type: "string", multiple: true },
        quorum: { type: "string" },
        "heads-origin": { type: "string" },
        "heads-state": { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    const usage = (m: string) => {
      println(io.stderr, `keywarden: ${m}\n\n${verifyHeadsReceiptCommand.usage}`);
      return EXIT.usage;
    };
    if (positionals.length !== 1) return usage("verify-heads-receipt takes exactly one FILE");
    if (
      !values.checkpoint ||
      !values.vkey?.length ||
      !values["chain-key"] ||
      !values["heads-vkey"]?.length
    ) {
      return usage("--checkpoint, --vkey, --chain-key and --heads-vkey are required");
    }
    const witnesses = (values.witness ?? []).map((w) => cosignatureVerifier(w));
    const quorum = values.quorum === undefined ? witnesses.length : Number(values.quorum);
    if (!Number.isInteger(quorum) || quorum < 0 || quorum > witnesses.length) {
      return usage("--quorum must be 0..number of --witness keys");
    }
    const chainNote = await readFile(at(io, values.checkpoint), "utf8");
    const chain = verifyCosignedCheckpoint(chainNote, {
      logKeys: values.vkey.map((k) => parseVerifierKey(k)),
    }).checkpoint;
    const receipt = await readFile(at(io, positionals[0] as string), "utf8");
    const options = {
      chainKey: parseChainKey(values["chain-key"]),
      chain: { size: chain.size, rootHash: chain.rootHash, time: chain.timestamp },
      policy: {
        logKeys: values["heads-vkey"].map((k) => parseVerifierKey(k)),
        witnesses,
        quorum,
        ...(values["heads-origin"] ? { origin: values["heads-origin"] } : {}),
      },
    };
    let v: ReturnType<typeof verifyHeadsReceipt>;
    try {
      v = verifyHeadsReceipt(receipt, options);
    } catch (err) {
      if (!isKeywardenError(err) || err.code === "ERR_INVALID_ARGUMENT") throw err;
      // Name the first failing step (the library's checkHeadsReceipt) next to the stable code.
      const checked = checkHeadsReceipt(receipt, options);
      const reason = checked.ok ? "invalid" : checked.reason;
      if (values.json) {
        println(
          io.stdout,
          JSON.stringify({ ok: false, reason, code: err.code, message: err.message }),
        );
      } else {
        println(
          io.stderr,
          `keywarden: heads receipt does not verify (${reason}): ${err.code}: ${err.message}`,
        );
      }
      return EXIT.failed;
    }
    let finding: string | undefined;
    if (values["heads-state"]) {
      const path = at(io, values["heads-state"]);
      let state: HeadsChainState | undefined;
      try {
        state = JSON.parse(await readFile(path, "utf8")) as HeadsChainState;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
          throw new KeywardenError("ERR_AUDIT_MALFORMED_INPUT", "heads state file is unreadable");
        }
      }
      const r = observeHead(state, {
        headsIndex: v.headsIndex,
        size: chain.size,
        rootHash: chain.rootHash,
      });
      if (r.ok) {
        await writeFile(`${path}.tmp`, `${JSON.stringify(r.state)}\n`, { mode: 0o600 });
        await rename(`${path}.tmp`, path);
      } else finding = r.finding;
    }
    const heads = v.heads.checkpoint;
    const summary = {
      ok: finding === undefined,
      finding: finding ?? null,
      chain: { origin: chain.origin, size: chain.size },
      heads: {
        origin: heads.origin,
        size: heads.size,
        index: v.headsIndex,
        witnesses: v.heads.cosignatures.map((c) => c.name),
      },
    };
    if (values.json) println(io.stdout, JSON.stringify(summary));
    else if (finding !== undefined) {
      println(
        io.stderr,
        `${finding.toUpperCase()}: the heads log shows ${chain.origin} inconsistently with what you saw before`,
      );
    } else {
      println(
        io.stdout,
        `heads receipt ok: ${chain.origin} at size ${chain.size} is leaf ${v.headsIndex} of ${heads.origin} (size ${heads.size}, ${v.heads.cosignatures.length} witness cosignature(s))`,
      );
    }
    return finding === undefined ? EXIT.ok : EXIT.failed;
  },
};

/** The heads-log subcommands of `keywarden audit`. */
export const headsCommands: Record<string, Command> = {
  "verify-heads-receipt": verifyHeadsReceiptCommand,
};
