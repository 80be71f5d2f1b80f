/**
 * C2SP tlog-cosignature v1 (timestamped Ed25519, signature type 0x04): cosigning, verifying, a
 * k-of-n witness policy, and a minimal witness that remembers the last checkpoint per origin,
 * checks a consistency proof from it, and cosigns.
 *
 * Cosigned message (byte-exact): `cosignature/v1\ntime <POSIX seconds>\n` followed by the whole
 * checkpoint note text (with its final newline, without signature lines). Signature bytes:
 * `u64 big-endian timestamp || 64-byte Ed25519 signature`.
 *
 * No node-only import: the verifying half is part of the offline verifier bundle; state files
 * live in `transparency-state-file.ts`.
 *
 * @packageDocumentation
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { KeywardenError } from "../../errors.js";
import { assertIndex, bytesEqual, concat, utf8 } from "../primitives/portable.js";
import { type Checkpoint, parseCheckpoint } from "./checkpoint.js";
import { verifyConsistency } from "./merkle.js";
import {
  computeKeyId,
  decodeVerifierKey,
  formatVerifierKey,
  type NoteVerifier,
  openNote,
  parseNote,
  SIG_TYPE_COSIGNATURE_V1,
  signatureLine,
} from "./note.js";
import type { Signer } from "./signer.js";

/**
 * The message a v1 cosignature signs: `cosignature/v1\ntime <ts>\n` + the checkpoint text.
 *
 * @example
 * ```ts
 * cosignatureMessage("example.com/log\n1\n…=\n", 1679315147);
 * ```
 * @throws never.
 */
export function cosignatureMessage(text: string, timestamp: number): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

/** Splits cosignature bytes into timestamp and signature; undefined when malformed. @internal */
export function decodeCosignature(
  bytes: Uint8Array,
): { timestamp: number; signature: Uint8Array } | undefined {
  if (bytes.length !== 72) return undefined;
  const ts = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { timestamp: Number(ts), signature: bytes.slice(8) };
}

/** A verifier of a witness's v1 cosignatures (for {@link openNote} and {@link verifyCosignedCheckpoint}). */
export interface CosignatureVerifier extends NoteVerifier {
  /** The timestamp of a cosignature this verifier accepts, or undefined if it does not verify. */
  timestampOf(text: string, signature: Uint8Array): number | undefined;
}

/**
 * A cosignature verifier from a type-0x04 verifier key (`<name>+<id>+<base64(0x04 || key)>`) or
 * a name and a raw 32-byte Ed25519 public key.
 *
 * @example
 * ```ts
 * const w = cosignatureVerifier("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2");
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the key is malformed or not a cosignature key.
 */
export function cosignatureVerifier(
  vkey: string | { name: string; publicKey: Uint8Array },
): CosignatureVerifier {
  const k =
    typeof vkey === "string" ? decodeVerifierKey(vkey) : { ...vkey, type: SIG_TYPE_COSIGNATURE_V1 };
  if (
    k.type !== SIG_TYPE_COSIGNATURE_V1 ||
    !(k.publicKey instanceof Uint8Array) ||
    k.publicKey.length !== 32
  ) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "verifier key is not an Ed25519 cosignature key",
    );
  }
  const key = new Uint8Array(k.publicKey);
  const timestampOf = (text: string, bytes: Uint8Array) => {
    const c = decodeCosignature(bytes);
    if (!c) return undefined;
    try {
      return ed25519.verify(c.signature, cosignatureMessage(text, c.timestamp), key, {
        zip215: false,
      })
        ? c.timestamp
        : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    name: k.name,
    keyId: computeKeyId(k.name, SIG_TYPE_COSIGNATURE_V1, key),
    type: SIG_TYPE_COSIGNATURE_V1,
    publicKey: key,
    verify: (text, sig) => timestampOf(text, sig) !== undefined,
    timestampOf,
  };
}

/** The cosigner side: a raw Ed25519 {@link Signer} (local or KMS) used with cosignature key IDs. */
export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  /** The type-0x04 verifier key to publish. */
  readonly verifierKey: string;
  /** Returns the signature line cosigning `text` at `timestamp`. */
  cosign(text: string, timestamp: number): Promise<string>;
}

/**
 * Wraps an Ed25519 signer as a v1 cosigner. Use a key dedicated to witnessing (the spec requires
 * distinct keys per cosigner, and the message does not commit to the cosigner name).
 *
 * @example
 * ```ts
 * const cosigner = createCosigner(await LocalEd25519Signer.fromKeyFile("witness.key"));
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the signer's public key is not 32 bytes.
 */
export function createCosigner(signer: Signer, name: string = signer.keyName): Cosigner {
  if (signer.publicKey.length !== 32)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "cosigner key must be Ed25519");
  const keyId = computeKeyId(name, SIG_TYPE_COSIGNATURE_V1, signer.publicKey);
  return {
    name,
    keyId,
    verifierKey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, signer.publicKey),
    async cosign(text, timestamp) {
      assertIndex(timestamp, "cosignature timestamp");
      const ts = new Uint8Array(8);
      new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp));
      const line = await signatureLine(text, {
        keyName: name,
        keyId,
        sign: async () => concat(ts, await signer.sign(cosignatureMessage(text, timestamp))),
      });
      return line;
    },
  };
}

/** Trust policy for a checkpoint: the log's key, the witnesses, and how many must cosign. */
export interface CheckpointPolicy {
  /** The log's note verifier(s) (e.g. the current and the previous key during a rotation). */
  readonly logKeys: readonly NoteVerifier[];
  /** Witness cosignature verifiers. */
  readonly witnesses?: readonly CosignatureVerifier[];
  /** Distinct witnesses that must cosign (default 0). */
  readonly quorum?: number;
  /** Expected origin; when set, a checkpoint for another origin is rejected. */
  readonly origin?: string;
  /** Current time in POSIX seconds (for rejecting cosignatures from the future); default now. */
  readonly now?: number;
  /** Allowed clock skew for witness timestamps in seconds (default 300). */
  readonly maxClockSkewSeconds?: number;
}

/** A checkpoint that passed its policy, with the cosignatures that counted. */
export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly text: string;
  readonly note: string;
  readonly cosignatures: readonly { name: string; timestamp: number }[];
}

/**
 * Verifies a signed checkpoint against a policy: a trusted log signature (required), then at least
 * `quorum` distinct witnesses' valid cosignatures. Unknown signatures are ignored; any failing
 * signature by a known log or witness key rejects the note.
 *
 * @example
 * ```ts
 * const v = verifyCosignedCheckpoint(note, { logKeys: [parseVerifierKey(vkey)], witnesses, quorum: 2 });
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` (fixed message) when any rule fails.
 */
export function verifyCosignedCheckpoint(
  note: string,
  policy: CheckpointPolicy,
): VerifiedCheckpoint {
  const fail = () =>
    new KeywardenError("ERR_AUDIT_CHECKPOINT_INVALID", "checkpoint verification failed");
  const witnesses = policy.witnesses ?? [];
  const quorum = policy.quorum ?? 0;
  if (
    !Number.isSafeInteger(quorum) ||
    quorum < 0 ||
    quorum > witnesses.length ||
    policy.logKeys.length === 0
  ) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "checkpoint policy is inconsistent");
  }
  const { text, verified } = openNote(note, [...policy.logKeys, ...witnesses]);
  /* Precondition: a checkpoint is accepted only with a valid signature by the log's own key. */
  const byLog = verified.some((s) =>
    policy.logKeys.some((k) => k.name === s.name && k.keyId === s.keyId),
  );
  if (!byLog) throw fail();
  const checkpoint = parseCheckpoint(text);
  if (policy.origin !== undefined && checkpoint.origin !== policy.origin) throw fail();
  const now = policy.now ?? Math.floor(Date.now() / 1000);
  const skew = policy.maxClockSkewSeconds ?? 300;
  const cosignatures: { name: string; timestamp: number }[] = [];
  const seen = new Set<CosignatureVerifier>();
  const parsed = parseNote(note);
  for (const sig of parsed.signatures) {
    for (const w of witnesses) {
      if (w.name !== sig.name || w.keyId !== sig.keyId || seen.has(w)) continue;
      const ts = w.timestampOf(text, sig.signature);
      if (ts === undefined) throw fail();
      if (ts > now + skew) continue; // from the future: does not count
      seen.add(w);
      cosignatures.push({ name: w.name, timestamp: ts });
    }
  }
  /* Precondition: fewer than `quorum` distinct witness cosignatures reject the checkpoint. */
  if (cosignatures.length < quorum) throw fail();
  return { checkpoint, text, note, cosignatures };
}

/** What a witness remembers per origin. */
export interface WitnessRecord {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** Where a witness keeps its per-origin state (a file, a database row…). */
export interface WitnessStateStore {
  get(origin: string): Promise<WitnessRecord | undefined>;
  /** Stores `next` only if the current record still equals `expected` (compare-and-swap). */
  compareAndSet(
    origin: string,
    expected: WitnessRecord | undefined,
    next: WitnessRecord,
  ): Promise<boolean>;
}

/** Outcome of {@link witnessCheckpoint}. */
export type WitnessResult =
  | { readonly ok: true; readonly cosignature: string; readonly note: string }
  | {
      readonly ok: false;
      readonly reason:
        | "unknown-log"
        | "bad-signature"
        | "rollback"
        | "fork"
        | "proof-invalid"
        | "conflict";
      readonly knownSize?: number;
    };

/**
 * The minimal witness: verifies the log's signature (`logs` maps origins to trusted log keys),
 * refuses a smaller tree ("rollback") or a different root at the same size ("fork"), requires a
 * consistency proof from the size it last saw, records the new checkpoint, and returns its
 * cosignature line (and the note with it appended).
 *
 * @example
 * ```ts
 * const r = await witnessCheckpoint({ note, proof, logs: { [origin]: [logKey] }, state, cosigner });
 * if (r.ok) await publish(r.note);
 * ```
 * @throws {KeywardenError} only for a misconfiguration; verification failures are results.
 */
export async function witnessCheckpoint(options: {
  note: string;
  proof: readonly Uint8Array[];
  logs: Readonly<Record<string, readonly NoteVerifier[]>>;
  state: WitnessStateStore;
  cosigner: Cosigner;
  now?: number;
}): Promise<WitnessResult> {
  let verified: VerifiedCheckpoint;
  let origin: string;
  try {
    const parsed = parseCheckpoint(parseNote(options.note).text);
    origin = parsed.origin;
    const keys = Object.hasOwn(options.logs, origin) ? options.logs[origin] : undefined;
    if (!keys || keys.length === 0) return { ok: false, reason: "unknown-log" };
    verified = verifyCosignedCheckpoint(options.note, { logKeys: keys, origin });
  } catch {
    return { ok: false, reason: "bad-signature" };
  }
  const cp = verified.checkpoint;
  const prev = await options.state.get(origin);
  if (prev) {
    if (cp.size < prev.size) return { ok: false, reason: "rollback", knownSize: prev.size };
    if (cp.size === prev.size && !bytesEqual(cp.rootHash, prev.rootHash)) {
      return { ok: false, reason: "fork", knownSize: prev.size };
    }
    if (!verifyConsistency(prev.size, cp.size, options.proof, prev.rootHash, cp.rootHash)) {
      return { ok: false, reason: "proof-invalid", knownSize: prev.size };
    }
  }
  /* Precondition: the witness records a checkpoint before cosigning it, so it never cosigns two inconsistent views. */
  const stored = await options.state.compareAndSet(origin, prev, {
    size: cp.size,
    rootHash: cp.rootHash,
  });
  if (!stored) return { ok: false, reason: "conflict" };
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const cosignature = await options.cosigner.cosign(verified.text, now);
  return { ok: true, cosignature, note: options.note + cosignature };
}

/**
 * An in-memory {@link WitnessStateStore} (tests, embedded witnesses).
 *
 * @example
 * ```ts
 * const r = await witnessCheckpoint({ note, proof, logs, state: new MemoryWitnessState(), cosigner });
 * ```
 * @throws never.
 */
export class MemoryWitnessState implements WitnessStateStore {
  readonly #records = new Map<string, WitnessRecord>();
  async get(origin: string): Promise<WitnessRecord | undefined> {
    return this.#records.get(origin);
  }
  async compareAndSet(
    origin: string,
    expected: WitnessRecord | undefined,
    next: WitnessRecord,
  ): Promise<boolean> {
    const cur = this.#records.get(origin);
    const same =
      cur === undefined || expected === undefined
        ? cur === expected
        : cur.size === expected.size && bytesEqual(cur.rootHash, expected.rootHash);
    if (!same) return false;
    this.#records.set(origin, { size: next.size, rootHash: new Uint8Array(next.rootHash) });
    return true;
  }
}
