/**
 * C2SP tlog-checkpoint (`c2sp.org/tlog-checkpoint`) bodies for audit chains, and the origin naming
 * scheme: one log (one tree, one origin) per chain, `<logName>/keywarden/<chainId>`.
 *
 * Body, byte-exact (each line ends in U+000A):
 * ```
 * <origin>
 * <tree size, decimal, no leading zeros>
 * <base64 of the 32-byte RFC 9162 root>
 * keywarden-time <POSIX seconds, decimal>      (extension line; keywarden always writes it)
 * ```
 * The `keywarden-time` extension line carries the signing time so a verifier can notice a frozen
 * log (a log that keeps serving an old checkpoint). Extension lines are not audited by witnesses:
 * treat the time as the log's claim; witness cosignature timestamps are the independent clock.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import {
  assertHash,
  assertIndex,
  fromBase64,
  hasControlCharacter,
  toBase64,
} from "../primitives/portable.js";

/** A parsed checkpoint body. */
export interface Checkpoint {
  /** The log's identity, e.g. `audit.example.com/keywarden/user:42`. */
  readonly origin: string;
  /** Number of entries in the tree. */
  readonly size: number;
  /** RFC 9162 root hash (32 bytes). */
  readonly rootHash: Uint8Array;
  /** Signing time claimed by the log (POSIX seconds), from the `keywarden-time` line; undefined if absent. */
  readonly timestamp: number | undefined;
  /** Extension lines other than `keywarden-time`, verbatim, in order. */
  readonly extensions: readonly string[];
}

/** The extension line keyword that carries the signing time. */
export const TIME_EXTENSION = "keywarden-time";

const ORIGIN = /^[\x21-\x2a\x2c-\x7e]{1,255}$/; // printable ASCII, no space, no '+'
const SIZE = /^(?:0|[1-9][0-9]{0,15})$/;
const INVALID = "checkpoint is malformed";

/**
 * True for an origin this library accepts: 1–255 printable ASCII characters, no space, no `+`.
 *
 * @example
 * ```ts
 * isValidOrigin("audit.example.com/keywarden/user:42"); // true
 * ```
 * @throws never.
 */
export function isValidOrigin(origin: unknown): origin is string {
  return typeof origin === "string" && ORIGIN.test(origin);
}

/**
 * The origin of a chain's log: `<logName>/keywarden/<chainId>`, where `logName` is a schema-less
 * URL naming the deployment (e.g. `audit.example.com`). Also the signing key's name by convention.
 *
 * @example
 * ```ts
 * chainOrigin("audit.example.com", "user:42"); // "audit.example.com/keywarden/user:42"
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the result is not a valid origin.
 */
export function chainOrigin(logName: string, chainId: string): string {
  const origin = `${logName}/keywarden/${chainId}`;
  if (!isValidOrigin(logName) || !isValidOrigin(chainId) || !isValidOrigin(origin)) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "log name and chain id must form a valid checkpoint origin",
    );
  }
  return origin;
}

/**
 * Serializes a checkpoint body (the note text to sign).
 *
 * @example
 * ```ts
 * formatCheckpoint({ origin, size: 3, rootHash, timestamp: 1764400000, extensions: [] });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on an invalid origin, size, hash, timestamp or extension.
 */
export function formatCheckpoint(cp: Checkpoint): string {
  if (!isValidOrigin(cp.origin))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid checkpoint origin");
  assertIndex(cp.size, "checkpoint size");
  assertHash(cp.rootHash, "checkpoint root hash");
  let text = `${cp.origin}\n${cp.size}\n${toBase64(cp.rootHash)}\n`;
  if (cp.timestamp !== undefined)
    text += `${TIME_EXTENSION} ${assertIndex(cp.timestamp, "checkpoint timestamp")}\n`;
  for (const ext of cp.extensions) {
    if (
      typeof ext !== "string" ||
      ext === "" ||
      hasControlCharacter(ext, false) ||
      ext.startsWith(`${TIME_EXTENSION} `)
    ) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid checkpoint extension line");
    }
    text += `${ext}\n`;
  }
  return text;
}

/**
 * Parses a checkpoint body (the verified text of a signed note). At least three lines; size is
 * canonical decimal; the root is canonical base64 of 32 bytes; extension lines are non-empty.
 *
 * @example
 * ```ts
 * const cp = parseCheckpoint(openNote(note, [logKey]).text);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` (fixed message) when malformed.
 */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = () => new KeywardenError("ERR_AUDIT_CHECKPOINT_INVALID", INVALID);
  if (typeof text !== "string" || !text.endsWith("\n")) throw bad();
  const lines = text.slice(0, -1).split("\n");
  const [origin, sizeText, rootText, ...rest] = lines;
  if (origin === undefined || sizeText === undefined || rootText === undefined) throw bad();
  if (!isValidOrigin(origin) || !SIZE.test(sizeText)) throw bad();
  const size = Number(sizeText);
  const rootHash = fromBase64(rootText);
  if (!Number.isSafeInteger(size) || !rootHash || rootHash.length !== 32) throw bad();
  let timestamp: number | undefined;
  const extensions: string[] = [];
  for (const line of rest) {
    if (line === "") throw bad();
    const t = line.startsWith(`${TIME_EXTENSION} `)
      ? line.slice(TIME_EXTENSION.length + 1)
      : undefined;
    if (t !== undefined) {
      /* Precondition: a checkpoint with a malformed or repeated time line is rejected. */
      if (timestamp !== undefined || !SIZE.test(t) || !Number.isSafeInteger(Number(t))) throw bad();
      timestamp = Number(t);
    } else {
      extensions.push(line);
    }
  }
  return { origin, size, rootHash, timestamp, extensions };
}
