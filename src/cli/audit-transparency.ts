/**
 * `keywarden audit keygen | checkpoint | prove | witness | check-checkpoint | verify-receipt`: the
 * transparency subcommands, merged into the `audit` group by ./audit.ts. Also exports the pieces
 * `keywarden audit verify` uses for `--checkpoint FILE --vkey KEY [--state FILE]`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { parseArgs } from "node:util";
import { bytesEqual, fromBase64, toBase64, utf8 } from "../audit/primitives/portable.js";
import { openFileAuditStore } from "../audit/storage/file/index.js";
import type { AuditStore } from "../audit/storage/index.js";
import {
  fileWitnessState,
  LocalEd25519Signer,
  readMonitorRecord,
  writeMonitorRecord,
  writeSignerKeyFile,
} from "../audit/transparency/index.js";
import {
  type CheckpointPolicy,
  checkCheckpointUpdate,
  consistencyProof,
  cosignatureVerifier,
  createCosigner,
  entryTreeReader,
  formatReceipt,
  inclusionProof,
  LeafAccumulator,
  type MonitorFailure,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  rootAtSize,
  TransparencyLog,
  verifyReceipt,
  witnessCheckpoint,
} from "../audit/transparency/portable.js";
import { KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";
import { headsCommands } from "./audit-heads.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

function usageError(message: string): never {
  throw Object.assign(new Error(message), { code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" });
}

function resolve(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : join(io.cwd, path);
}

async function openStore(
  io: CliIo,
  url: string | undefined,
  readOnly: boolean,
): Promise<AuditStore> {
  if (!url) usageError("--store file:PATH is required");
  if (!url.startsWith("file:") || url.length === 5) usageError("--store must be file:PATH");
  return openFileAuditStore(resolve(io, url.slice(5)), { readOnly });
}

/**
 * The signing key named by `--key FILE`, or else read (once, then removed from the environment)
 * from `keyEnv` (default KEYWARDEN_AUDIT_SIGNING_KEY).
 */
export async function loadSigner(
  io: CliIo,
  keyFile?: string,
  keyEnv?: string,
): Promise<LocalEd25519Signer> {
  if (keyFile) return LocalEd25519Signer.fromKeyFile(resolve(io, keyFile));
  const name = keyEnv ?? "KEYWARDEN_AUDIT_SIGNING_KEY";
  const text = io.env[name];
  delete io.env[name];
  if (io.env !== process.env) delete process.env[name];
  if (!text)
    throw new KeywardenError("ERR_ENV_SECRET_MISSING", `environment variable ${name} is not set`);
  const secret = Secret.fromString(text);
  try {
    return LocalEd25519Signer.fromSecret(secret);
  } finally {
    secret.wipe();
  }
}

async function output(io: CliIo, out: string | undefined, text: string): Promise<void> {
  if (out) await writeFile(resolve(io, out), text, { mode: 0o644 });
  else io.stdout.write(text);
}

function parseSeq(text: string | undefined, what: string): number {
  if (
    text === undefined ||
    !/^(0|[1-9][0-9]{0,15})$/.test(text) ||
    !Number.isSafeInteger(Number(text))
  )
    usageError(`${what} must be a non-negative integer`);
  return Number(text);
}

function parseProofText(text: string): Uint8Array[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.map((l) => {
    const h = fromBase64(l.trim());
    if (h?.length !== 32)
      throw new KeywardenError("ERR_AUDIT_PROOF_INVALID", "proof file is malformed");
    return h;
  });
}

const keygen: Command = {
  summary: "Generate an Ed25519 checkpoint (or witness) signing key; print its public verifier key",
  usage: `Usage: keywarden audit keygen --name NAME --out FILE [--cosigner]

Writes a new signing key to FILE (mode 0600, never overwritten) in the signed-note signer-key
format, and prints the PUBLIC verifier key to publish (e.g. on your website and in user docs).
The private key is never printed. To use it from the environment:
  KEYWARDEN_AUDIT_SIGNING_KEY="$(cat FILE)"

Options:
  --name NAME    key name: your log name (e.g. audit.example.com) or witness name
  --out FILE     where to write the private key
  --cosigner     print the witness cosignature verifier key (type 0x04) instead
  -h, --help     this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        name: { type: "string" },
        out: { type: "string" },
        cosigner: { type: "boolean", default: false },
      },
    });
    if (!values.name || !values.out) usageError("--name and --out are required");
    const { signer, privateKey } = LocalEd25519Signer.generate(values.name);
    try {
      await writeSignerKeyFile(resolve(io, values.out), privateKey);
    } finally {
      privateKey.wipe();
    }
    println(io.stdout, values.cosigner ? createCosigner(signer).verifierKey : signer.verifierKey);
    signer.destroy();
    return EXIT.ok;
  },
};

const checkpoint: Command = {
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
      await output(io, values.out, note);
    } finally {
      signer.destroy();
      await store.close?.();
    }
    return EXIT.ok;
  },
};

const prove: Command = {
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
        const from = parseSeq(values.from, "--from");
        const to = values.to === undefined ? reader.size : parseSeq(values.to, "--to");
        const proof = await consistencyProof(reader, from, to);
        await output(io, values.out, proof.map((h) => `${toBase64(h)}\n`).join(""));
        return EXIT.ok;
      }
      const seq = parseSeq(values.seq, "--seq");
      const note = values.checkpoint
        ? await readFile(resolve(io, values.checkpoint), "utf8")
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
      await output(io, values.out, receipt);
      return EXIT.ok;
    } finally {
      await store.close?.();
    }
  },
};

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
}

function policyFrom(values: CheckpointVerifyValues): CheckpointPolicy {
  if (!values.vkey || values.vkey.length === 0) usageError("--vkey is required");
  const witnesses = (values.witness ?? []).map((w) => cosignatureVerifier(w));
  const quorum =
    values.quorum === undefined ? witnesses.length : parseSeq(values.quorum, "--quorum");
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
  const note = await readFile(resolve(io, values.checkpoint), "utf8");
  const maxAge =
    values["max-age"] === undefined ? undefined : parseSeq(values["max-age"], "--max-age");
  const statePath = values.state ? resolve(io, values.state) : undefined;
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
  /* Precondition: a checkpoint for another chain than the export's is rejected. */
  if (chainId !== undefined && !origin.endsWith(`/keywarden/${chainId}`))
    return fail("origin-mismatch");
  const previous = statePath ? await readMonitorRecord(statePath, origin) : undefined;
  const proof = values.proof
    ? parseProofText(await readFile(resolve(io, values.proof), "utf8"))
    : undefined;
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
export async function verifyReceiptFile(path: string, values: CheckpointVerifyValues, io: CliIo) {
  const text = await readFile(resolve(io, path), "utf8");
  return verifyReceipt(text, policyFrom(values));
}

const checkCheckpoint: Command = {
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
  --json              machine-readable result
  -h, --help          this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { ...CHECKPOINT_VERIFY_OPTIONS, json: { type: "boolean", default: false } },
    });
    if (!values.state) usageError("--state is required");
    const r = await checkCheckpointFile(values, io);
    if (values.json) println(io.stdout, JSON.stringify(r));
    else println(r.ok ? io.stdout : io.stderr, r.message);
    return r.ok ? EXIT.ok : EXIT.failed;
  },
};

const verifyReceiptCommand: Command = {
  summary: "Verify an entry receipt (c2sp.org/tlog-proof@v1) offline",
  usage: `Usage: keywarden audit verify-receipt FILE --vkey KEY [--witness VKEY... --quorum K] [--json]

Checks the receipt's checkpoint signature (and witness cosignatures) and the inclusion proof of
the entry it carries. Prints the proven entry. Exits 0 only when it verifies.

Options:
  --vkey KEY       the log's verifier key
  --witness VKEY   witness cosignature key (repeatable); --quorum K of them must cosign
  --json           machine-readable result
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
        json: { type: "boolean", default: false },
      },
    });
    if (positionals.length !== 1) usageError("verify-receipt takes exactly one FILE");
    const r = await verifyReceiptFile(positionals[0] as string, values, io);
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

const witness: Command = {
  summary: "Act as a witness: check a checkpoint against the last one seen and cosign it",
  usage: `Usage: keywarden audit witness --checkpoint FILE --log-vkey KEY --state FILE (--key FILE | --key-env VAR) [--proof FILE] [--out FILE]

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
    const note = await readFile(resolve(io, values.checkpoint), "utf8");
    let origin: string;
    try {
      origin = parseCheckpoint(parseNote(note).text).origin;
    } catch {
      println(io.stderr, "witness refused: bad-signature");
      return EXIT.failed;
    }
    const keys = Object.entries(logs)
      .filter(([name]) => origin === name || origin.startsWith(`${name}/`))
      .flatMap(([, v]) => v);
    const signer = await loadSigner(io, values.key, values["key-env"]);
    try {
      const proof = values.proof
        ? parseProofText(await readFile(resolve(io, values.proof), "utf8"))
        : [];
      const r = await witnessCheckpoint({
        note,
        proof,
        logs: keys.length ? { [origin]: keys } : {},
        state: fileWitnessState(resolve(io, values.state)),
        cosigner: createCosigner(signer),
      });
      if (!r.ok) {
        println(
          io.stderr,
          `witness refused: ${r.reason}${r.knownSize === undefined ? "" : ` (last seen size ${r.knownSize})`}`,
        );
        return EXIT.failed;
      }
      await output(io, values.out, r.note);
      return EXIT.ok;
    } finally {
      signer.destroy();
    }
  },
};

/** The transparency subcommands of `keywarden audit`. */
export const transparencyCommands: Record<string, Command> = {
  keygen,
  checkpoint,
  prove,
  witness,
  "check-checkpoint": checkCheckpoint,
  "verify-receipt": verifyReceiptCommand,
  ...headsCommands,
};
