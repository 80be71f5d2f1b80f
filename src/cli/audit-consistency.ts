/**
 * `keywarden audit verify-consistency`: checks an RFC 9162 consistency proof offline — that the
 * tree of size N with root R2 extends the tree of size M with root R1 (the log only grew). The
 * proof is what `keywarden audit prove --from M --to N` prints; the roots come from two signed
 * checkpoints the caller verified.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { fromBase64 } from "../audit/primitives/portable.js";
import { verifyConsistency } from "../audit/transparency/portable.js";
import { parseCount, resolvePath, usageError } from "./args.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

/** Outcome of {@link checkConsistencyProof}. */
export type ConsistencyOutcome =
  | { readonly ok: true; readonly from: number; readonly to: number; readonly message: string }
  | {
      readonly ok: false;
      /** `malformed`: a root or proof line is not the canonical base64 of 32 bytes. */
      readonly reason: "inconsistent" | "malformed";
      readonly message: string;
    };

/** Canonical base64 of exactly 32 bytes, or undefined. */
function hash32(text: string): Uint8Array | undefined {
  const h = fromBase64(text);
  return h?.length === 32 ? h : undefined;
}

/**
 * Checks a consistency proof file (one base64 hash per line, each ending with LF; an empty file
 * is the empty proof) between two tree heads. Never throws for a proof that does not verify.
 *
 * @example
 * ```ts
 * const r = await checkConsistencyProof(io, { from: 3, to: 5, oldRoot, newRoot, proofPath });
 * ```
 * @throws {KeywardenError} when the proof file cannot be read.
 */
export async function checkConsistencyProof(
  io: CliIo,
  args: {
    readonly from: number;
    readonly to: number;
    readonly oldRoot: string;
    readonly newRoot: string;
    readonly proofPath: string;
  },
): Promise<ConsistencyOutcome> {
  const text = await readFile(resolvePath(io, args.proofPath), "utf8");
  const lines = text === "" ? [] : text.endsWith("\n") ? text.slice(0, -1).split("\n") : undefined;
  const proof = lines?.map(hash32);
  const root1 = hash32(args.oldRoot);
  const root2 = hash32(args.newRoot);
  if (!proof || proof.some((h) => h === undefined) || !root1 || !root2)
    return {
      ok: false,
      reason: "malformed",
      message:
        "a root or a proof line is not the base64 of a 32-byte hash (one per line, each ending with LF)",
    };
  return verifyConsistency(args.from, args.to, proof as Uint8Array[], root1, root2)
    ? {
        ok: true,
        from: args.from,
        to: args.to,
        message: `consistent: the tree of ${args.to} entries extends the tree of ${args.from}`,
      }
    : {
        ok: false,
        reason: "inconsistent",
        message: `NOT CONSISTENT: the proof does not show that the tree of ${args.to} entries extends the tree of ${args.from} (rewritten, truncated or a wrong proof)`,
      };
}

/** `keywarden audit verify-consistency`. */
export const verifyConsistencyCommand: Command = {
  summary: "Verify a consistency proof between two tree heads (the log only grew)",
  usage: `Usage: keywarden audit verify-consistency --from M --to N --old-root B64 --new-root B64 --proof FILE [--json]

Checks the RFC 9162 consistency proof in FILE (one base64 hash per line, as printed by
'keywarden audit prove --from M --to N'; an empty file is the empty proof): that the tree of N
entries with root --new-root extends the tree of M entries with root --old-root. Take the roots
from signed checkpoints you verified. Exits 0 only when the proof verifies.

Options:
  --from M          the earlier tree size
  --to N            the later tree size
  --old-root B64    the earlier tree's root hash (base64, as in its checkpoint)
  --new-root B64    the later tree's root hash
  --proof FILE      the consistency proof
  --json            print {"ok":true,"from","to","message"} or
                    {"ok":false,"reason":"inconsistent"|"malformed","message"} on stdout
  -h, --help        this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        from: { type: "string" },
        to: { type: "string" },
        "old-root": { type: "string" },
        "new-root": { type: "string" },
        proof: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (values["old-root"] === undefined || values["new-root"] === undefined || !values.proof)
      usageError("--from, --to, --old-root, --new-root and --proof are required");
    const r = await checkConsistencyProof(io, {
      from: parseCount(values.from, "--from"),
      to: parseCount(values.to, "--to"),
      oldRoot: values["old-root"],
      newRoot: values["new-root"],
      proofPath: values.proof,
    });
    if (values.json) println(io.stdout, JSON.stringify(r));
    else println(r.ok ? io.stdout : io.stderr, r.message);
    return r.ok ? EXIT.ok : EXIT.failed;
  },
};
