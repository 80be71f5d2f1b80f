/**
 * `keywarden audit check-checkpoint | verify-receipt`: the monitor's side of transparency — check
 * a signed checkpoint against the last one verified (truncation, rewrites, frozen logs) and
 * verify entry receipts offline. Also exports the checkpoint check that
 * `keywarden audit verify --checkpoint FILE --vkey KEY [--state FILE]` feeds while it streams.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { fromHex, isHexHash } from "../audit/primitives/portable.js";
import { readMonitorRecord, writeMonitorRecord } from "../audit/transparency/index.js";
import {
  type CheckpointPolicy,
  checkCheckpointUpdate,
  cosignatureVerifier,
  LeafAccumulator,
  type MonitorFailure,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  verifyReceipt,
} from "../audit/transparency/portable.js";
import { isKeywardenError } from "../errors.js";
import { parseCount, readProofFile, resolvePath, usageError } from "./args.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

/** parseArgs option specs for checkpoint verification, to spread into `audit verify`. */
export const CHECKPOINT_VERIFY_OPTIONS = {
  checkpoint: { type: "string" },
  vkey: { type: "string", multiple: true },
  witness: { type: "string", multiple: true },
  quorum: { type: "string" },
  state: { type: "string" },
  proof: { type: "string" },
  "max-age": { type: "string" },
} as const;

/** Parsed values of {@link CHECKPOINT_VERIFY_OPTIONS}. */
export interface CheckpointVerifyValues {
  readonly checkpoint?: string | undefined;
  readonly vkey?: readonly string[] | undefined;
  readonly witness?: readonly string[] | undefined;
  readonly quorum?: string | undefined;
  readonly state?: string | undefined;
  readonly proof?: string | undefined;
  readonly "max-age"?: string | undefined;
  /** `check-checkpoint --origin`: the log origin the caller expects. */
  readonly origin?: string | undefined;
}

function policyFrom(values: CheckpointVerifyValues): CheckpointPolicy {
  if (!values.vkey || values.vkey.length === 0) usageError("--vkey is required");
  const witnesses = (values.witness ?? []).map((w) => cosignatureVerifier(w));
  const quorum =
    values.quorum === undefined ? witnesses.length : parseCount(values.quorum, "--quorum");
  if (quorum > witnesses.length) usageError("--quorum exceeds the number of --witness keys");
  return { logKeys: values.vkey.map((k) => parseVerifierKey(k)), witnesses, quorum };
}

/** Outcome of {@link checkCheckpointFile}. */
export type CheckpointCheckOutcome =
  | {
      readonly ok: true;
      readonly status: "first-run" | "unchanged" | "grew";
      readonly origin: string;
      readonly size: number;
      readonly message: string;
    }
  | { readonly ok: false; readonly reason: MonitorFailure; readonly message: string };

const REASON_TEXT: Record<MonitorFailure, string> = {
  "bad-checkpoint": "checkpoint signature, witness quorum or format is invalid",
  "origin-mismatch": "checkpoint is for a different log than the one remembered",
  truncated: "TRUNCATED: the log (or this export) has fewer entries than a checkpoint it signed",
  rewritten:
    "REWRITTEN: the log's history differs from what was verified before (fork or re-chain)",
  "proof-missing": "the log grew but no consistency proof (or full export) was supplied",
  "time-went-backwards": "the log's checkpoint time went backwards",
  stale: "checkpoint is older than --max-age: the log may be frozen",
};

/**
 * Verifies a checkpoint file for `audit verify --checkpoint FILE --vkey KEY [--state FILE]`:
 * signature and witness policy, that the checkpoint is for `chainId` (the export's chain, when
 * given), that `leafHashes` (the export's entry hashes, in order, from seq 0) prove its root, and —
 * with `--state` — that the log only grew since the last verified checkpoint; on success the
 * state file is updated. Never throws for verification failures.
 *
 * @example
 * ```ts
 * const r = await checkCheckpointFile(values, io, exportedEntryHashes);
 * println(r.ok ? io.stdout : io.stderr, r.message);
 * ```
 * @throws {KeywardenError} on unreadable files or a corrupted state file; usage errors for bad options.
 */
export async function checkCheckpointFile(
  values: CheckpointVerifyValues,
  io: CliIo,
  leafHashes?: Iterable<Uint8Array>,
  chainId?: string,
): Promise<CheckpointCheckOutcome> {
  const check = await openCheckpointCheck(values, io, chainId);
  if (leafHashes && !check.failed) {
    check.expectLeaves();
    for (const leaf of leafHashes) if (!check.push(leaf)) break;
  }
  return check.finish();
}

/** A checkpoint check fed while an export streams; see {@link openCheckpointCheck}. */
export interface CheckpointCheck {
  /** True when the check already failed on reading the checkpoint (finish() says why). */
  readonly failed: boolean;
  /** Declares that the export's entry hashes will be pushed (call before the first push). */
  expectLeaves(): void;
  /** The next entry hash of the export (seq order, from 0); false once no more are needed. */
  push(leafHash: Uint8Array): boolean;
  /**
   * Runs the verification, updates the state file on success. `chainId` (e.g. the export
   * manifest's, known only after reading it) must match the checkpoint's origin when given.
   */
  finish(chainId?: string): Promise<CheckpointCheckOutcome>;
}

/**
 * Streaming form of {@link checkCheckpointFile} for `audit verify`: reads the checkpoint and the
 * state file first, takes the export's entry hashes one by one as they are verified (O(log n)
 * memory), then decides.
 *
 * @example
 * ```ts
 * const check = await openCheckpointCheck(values, io, manifest.chainId);
 * check.expectLeaves();
 * // for each verified entry, in seq order:
 * check.push(fromHex(entry.hash));
 * const outcome = await check.finish();
 * ```
 * @throws {KeywardenError} on unreadable files or a corrupted state file; usage errors for bad options.
 */
export async function openCheckpointCheck(
  values: CheckpointVerifyValues,
  io: CliIo,
  chainId?: string,
): Promise<CheckpointCheck> {
  if (!values.checkpoint) usageError("--checkpoint is required");
  const policy = policyFrom(values);
  const note = await readFile(resolvePath(io, values.checkpoint), "utf8");
  const maxAge =
    values["max-age"] === undefined ? undefined : parseCount(values["max-age"], "--max-age");
  const statePath = values.state ? resolvePath(io, values.state) : undefined;
  const fail = (reason: MonitorFailure): CheckpointCheck => ({
    failed: true,
    expectLeaves: () => undefined,
    push: () => false,
    finish: async () => ({ ok: false, reason, message: REASON_TEXT[reason] }),
  });
  let cp: ReturnType<typeof parseCheckpoint>;
  try {
    cp = parseCheckpoint(parseNote(note).text);
  } catch {
    return fail("bad-checkpoint");
  }
  const origin = cp.origin;
  if (values.origin !== undefined && origin !== values.origin) return fail("origin-mismatch");
  /* Precondition: a checkpoint for another chain than the export's is rejected. */
  if (chainId !== undefined && !origin.endsWith(`/keywarden/${chainId}`))
    return fail("origin-mismatch");
  const previous = statePath ? await readMonitorRecord(statePath, origin) : undefined;
  const proof = values.proof ? await readProofFile(io, values.proof) : undefined;
  let leaves: LeafAccumulator | undefined;
  return {
    failed: false,
    expectLeaves() {
      leaves ??= new LeafAccumulator(cp.size, previous?.size);
    },
    push(leaf) {
      return leaves ? leaves.push(leaf) : false;
    },
    async finish(exportChainId?: string) {
      if (exportChainId !== undefined && !origin.endsWith(`/keywarden/${exportChainId}`)) {
        return { ok: false, reason: "origin-mismatch", message: REASON_TEXT["origin-mismatch"] };
      }
      const r = checkCheckpointUpdate({
        note,
        policy: { ...policy, origin },
        previous,
        consistencyProof: proof,
        leaves,
        maxAgeSeconds: maxAge,
      });
      if (!r.ok) {
        const sizes =
          r.previousSize === undefined
            ? ""
            : ` (previously ${r.previousSize} entries, now ${r.size})`;
        return { ok: false, reason: r.reason, message: `${REASON_TEXT[r.reason]}${sizes}` };
      }
      if (statePath) await writeMonitorRecord(statePath, r.record);
      const v = r.checkpoint.checkpoint;
      const cosigned = r.checkpoint.cosignatures.length;
      return {
        ok: true,
        status: r.status,
        origin: v.origin,
        size: v.size,
        message: `checkpoint ok (${r.status}): ${v.origin}, ${v.size} entries${cosigned ? `, ${cosigned} witness cosignatures` : ""}`,
      };
    },
  };
}

/**
 * Verifies a receipt file offline (for `audit verify-receipt` and `audit verify --receipt`).
 *
 * @throws {KeywardenError} `ERR_AUDIT_PROOF_INVALID` / `ERR_AUDIT_CHECKPOINT_INVALID` when it does not verify.
 */
export async function verifyReceiptFile(
  path: string,
  values: CheckpointVerifyValues & { readonly "leaf-hash"?: string | undefined },
  io: CliIo,
) {
  const text = await readFile(resolvePath(io, path), "utf8");
  const given = values["leaf-hash"];
  if (given !== undefined && !isHexHash(given))
    usageError("--leaf-hash must be 64 lowercase hex digits");
  const leafHash = given === undefined ? undefined : fromHex(given);
  return verifyReceipt(text, { ...policyFrom(values), ...(leafHash ? { leafHash } : {}) });
}

/** `keywarden audit check-checkpoint`. */
export const checkCheckpointCommand: Command = {
  summary: "Check a signed checkpoint against the last one you verified (truncation/rollback)",
  usage: `Usage: keywarden audit check-checkpoint --checkpoint FILE --vkey KEY --state FILE [--proof FILE] [--witness VKEY... --quorum K] [--max-age SECONDS] [--json]

Verifies the checkpoint's signature (and witness cosignatures), then compares it with the last
checkpoint recorded in the state file: a smaller tree is reported as TRUNCATED, a different tree
as REWRITTEN; growth needs a consistency proof (keywarden audit prove --from). On success the
state file is updated. Exits 0 only when everything verifies.

Options:
  --checkpoint FILE   the signed checkpoint note
  --vkey KEY          the log's verifier key (repeat for rotated keys)
  --state FILE        where the last verified checkpoint is remembered (created on first run)
  --proof FILE        consistency proof from the remembered size (base64 lines)
  --witness VKEY      a witness cosignature key (repeatable); --quorum K of them must cosign
  --max-age SECONDS   reject checkpoints older than this (frozen log)
  --origin ORIGIN     the log origin you expect (e.g. audit.example.com/keywarden/user:alice);
                      a checkpoint of another log is refused (origin-mismatch)
  --json              print {"ok":true,"status":"first-run"|"unchanged"|"grew","origin","size",
                      "message"} or {"ok":false,"reason","message"} on stdout
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...CHECKPOINT_VERIFY_OPTIONS,
        origin: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.state) usageError("--state is required");
    const r = await checkCheckpointFile(values, io);
    if (values.json) println(io.stdout, JSON.stringify(r));
    else println(r.ok ? io.stdout : io.stderr, r.message);
    return r.ok ? EXIT.ok : EXIT.failed;
  },
};

/** The codes `verifyReceipt` fails with for a receipt that does not verify. */
const RECEIPT_FAILURES = new Set<string>([
  "ERR_AUDIT_PROOF_INVALID",
  "ERR_AUDIT_CHECKPOINT_INVALID",
]);

/** `keywarden audit verify-receipt`. */
export const verifyReceiptCommand: Command = {
  summary: "Verify an entry receipt (c2sp.org/tlog-proof@v1) offline",
  usage: `Usage: keywarden audit verify-receipt FILE --vkey KEY [--witness VKEY... --quorum K] [--json]

Checks the receipt's checkpoint signature (and witness cosignatures) and the inclusion proof of
the entry it carries. Prints the proven entry. Exits 0 only when it verifies.

Options:
  --vkey KEY       the log's verifier key
  --witness VKEY   witness cosignature key (repeatable); --quorum K of them must cosign
  --leaf-hash HEX  the entry hash from your own copy (64 hex digits): the receipt must prove it
                   (needed when the receipt carries no entry body)
  --json           print {"ok":true,"origin","size","index","entry"} on stdout, or
                   {"ok":false,"code","message"} when it does not verify
  -h, --help       this text`,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        vkey: { type: "string", multiple: true },
        witness: { type: "string", multiple: true },
        quorum: { type: "string" },
        "leaf-hash": { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    if (positionals.length !== 1) usageError("verify-receipt takes exactly one FILE");
    let r: Awaited<ReturnType<typeof verifyReceiptFile>>;
    try {
      r = await verifyReceiptFile(positionals[0] as string, values, io);
    } catch (err) {
      // With --json a receipt that does not verify is a result on stdout, as for every verifier.
      if (!values.json || !isKeywardenError(err) || !RECEIPT_FAILURES.has(err.code)) throw err;
      println(io.stdout, JSON.stringify({ ok: false, code: err.code, message: err.message }));
      return EXIT.failed;
    }
    const cp = r.checkpoint.checkpoint;
    const summary = {
      ok: true,
      origin: cp.origin,
      size: cp.size,
      index: r.index,
      entry: r.body ?? null,
    };
    if (values.json) println(io.stdout, JSON.stringify(summary));
    else
      println(
        io.stdout,
        `receipt ok: entry ${r.index} of ${cp.origin} (tree size ${cp.size})\n${r.body ?? ""}`,
      );
    return EXIT.ok;
  },
};
