/**
 * The audit entry (format v1): its fields, their exact canonical encoding and the entry hash.
 * Pure code over strings and bytes (no node: imports) so the browser verifier can reuse it.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../errors.js";
import { hexEquals, isHexHash, toHex } from "./hex.js";
import type { Sha256 } from "./sha256.js";
import type { HexHash } from "./store.js";

/** The entry format version this library writes and verifies. */
export const AUDIT_FORMAT_VERSION = 1;

/** `prevHash` of entry 0 of every chain: 32 zero bytes in hex. */
export const GENESIS_PREV_HASH: HexHash = "0".repeat(64);

/** The chain of infrastructure actions performed by operators. */
export const OPERATOR_CHAIN_ID = "operator";

/** Who performed an action: the identity the library acted for (see `keywarden/guard`). */
export interface AuditActor {
  readonly kind: "session" | "grant" | "host" | "operator";
  /** The user the identity acts for (for operators: the operator id). */
  readonly userId: string;
  /** Session, grant, host or operator id of the identity. */
  readonly id: string;
}

/** One hashed audit entry. Its canonical JSON text is what the chain hashes. */
export interface AuditEntry {
  readonly v: 1;
  readonly chainId: string;
  readonly seq: number;
  /** ISO-8601 UTC with milliseconds, e.g. `2026-11-29T03:34:41.123Z`. */
  readonly ts: string;
  readonly actor: AuditActor;
  readonly action: string;
  /** Lowercase hex `SHA-256(salt || JCS(payload))`: the salted commitment to the payload. */
  readonly payloadCommitment: HexHash;
  /** Entry hash of `seq - 1`, or {@link GENESIS_PREV_HASH} for `seq` 0. */
  readonly prevHash: HexHash;
}

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const CHAIN_ID = /^(?:operator|user:[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})$/;
const ACTION = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;
const _TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ACTOR_KINDS = new Set(["session", "grant", "host", "operator"]);
const ENTRY_KEYS = 8;

/**
 * The chain id of a user's account chain: `user:<userId>`.
 *
 * @example
 * ```ts
 * userChainId("user-42"); // "user:user-42"
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on an invalid user id.
 */
export function userChainId(userId: string): string {
  if (typeof userId !== "string" || !USER_ID.test(userId))
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "userId must be 1-128 characters of [A-Za-z0-9._:@-]",
    );
  return `user:${userId}`;
}

/** True for `operator` or `user:<userId>`.
 *
 * @example
 * ```ts
 * isChainId("user:alice"); // true
 * isChainId("alice");      // false
 * ```
 * @throws never.
 */
export function isChainId(value: unknown): value is string {
  return typeof value === "string" && CHAIN_ID.test(value);
}

/**
 * Throws unless `value` is a valid chain id.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * assertChainId(req.params.chain);
 * ```
 */
export function assertChainId(value: unknown): asserts value is string {
  if (!isChainId(value))
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "chainId must be 'operator' or 'user:<userId>'",
    );
}

/** Whose chain `chainId` is: the operators', or one user's.
 *
 * @example
 * ```ts
 * chainOwner("user:alice"); // { kind: "user", userId: "alice" }
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on an invalid chain id.
 */
export function chainOwner(
  chainId: string,
): { kind: "operator" } | { kind: "user"; userId: string } {
  assertChainId(chainId);
  return chainId === OPERATOR_CHAIN_ID
    ? { kind: "operator" }
    : { kind: "user", userId: chainId.slice(5) };
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ` naming a real UTC instant (what `Date#toISOString` prints for years 0000–9999). */
function isIsoUtc(ts: unknown): ts is string {
  if (typeof ts !== "string" || ts.length !== 24) return false;
  if (
    ts[4] !== "-" ||
    ts[7] !== "-" ||
    ts[10] !== "T" ||
    ts[13] !== ":" ||
    ts[16] !== ":" ||
    ts[19] !== "." ||
    ts[23] !== "Z"
  )
    return false;
  const y = digits(ts, 0, 4);
  const mo = digits(ts, 5, 2);
  const d = digits(ts, 8, 2);
  const h = digits(ts, 11, 2);
  const mi = digits(ts, 14, 2);
  const sec = digits(ts, 17, 2);
  const ms = digits(ts, 20, 3);
  if (
    y < 0 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    sec < 0 ||
    sec > 59 ||
    ms < 0
  )
    return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 && leap ? 29 : (DAYS[mo - 1] as number));
}

/** Why an entry value is not a valid v1 entry, or `undefined` when it is. */
export function entryProblem(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return "entry is not an object";
  const o = e as Record<string, unknown>;
  if (Object.keys(o).length !== ENTRY_KEYS) return "entry has missing or unknown fields";
  const a = o.actor;
  if (typeof a !== "object" || a === null || Array.isArray(a)) return "invalid actor";
  if (Object.keys(a).length !== 3) return "actor has missing or unknown fields";
  return contentProblem(o as unknown as AuditEntry);
}

/** Field checks of an entry whose shape is known (members present, actor an object). */
function contentProblem(o: AuditEntry): string | undefined {
  if (o.v !== AUDIT_FORMAT_VERSION) return "unsupported format version";
  if (!isChainId(o.chainId)) return "invalid chainId";
  if (typeof o.seq !== "number" || !Number.isSafeInteger(o.seq) || o.seq < 0) return "invalid seq";
  if (!isIsoUtc(o.ts)) return "invalid ts";
  if (typeof o.action !== "string" || o.action.length > 64 || !ACTION.test(o.action))
    return "invalid action";
  if (!isHexHash(o.payloadCommitment)) return "invalid payloadCommitment";
  if (!isHexHash(o.prevHash)) return "invalid prevHash";
  const actor = o.actor as unknown as Record<string, unknown>;
  if (typeof actor.kind !== "string" || !ACTOR_KINDS.has(actor.kind)) return "invalid actor.kind";
  if (typeof actor.userId !== "string" || !USER_ID.test(actor.userId))
    return "invalid actor.userId";
  if (
    typeof actor.id !== "string" ||
    actor.id.length === 0 ||
    actor.id.length > 256 ||
    !actor.id.isWellFormed() ||
    hasControlChar(actor.id)
  )
    return "invalid actor.id";
  return undefined;
}

/**
 * The canonical (RFC 8785) JSON text of a valid entry. Keys are written in JCS order by a fixed
 * template, which is byte-identical to `canonicalize(entry)` for valid entries (tested) and several
 * times faster.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` when the entry is not a valid v1 entry.
 *
 * @example
 * ```ts
 * const body = encodeEntry(entry); // '{"action":"order.placed","actor":{…},…,"v":1}'
 * ```
 */
export function encodeEntry(entry: AuditEntry): string {
  const problem = entryProblem(entry);
  if (problem !== undefined) throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", problem);
  return encodeValidEntry(entry);
}

/** Entries this module validated, with the exact text they encode to (see {@link decodedBody}). */
const validated = new WeakMap<AuditEntry, string>();

/**
 * @internal The canonical text of `entry` when this module validated it (decode or
 * {@link encodeValidatedEntry}); lets the verifier skip re-encoding an entry it already checked.
 */
export function decodedBody(entry: AuditEntry): string | undefined {
  return validated.get(entry);
}

/**
 * @internal Encodes an entry for which {@link entryProblem} just returned `undefined` (the caller
 * guarantees it) and remembers the pair.
 */
export function encodeValidatedEntry(e: AuditEntry): string {
  const body = encodeValidEntry(e);
  // Frozen, so the remembered text can never describe a different (mutated) entry.
  Object.freeze(e.actor);
  validated.set(Object.freeze(e), body);
  return body;
}

function encodeValidEntry(e: AuditEntry): string {
  const q = JSON.stringify;
  return `{"action":"${e.action}","actor":{"id":${q(e.actor.id)},"kind":"${e.actor.kind}","userId":"${e.actor.userId}"},"chainId":"${e.chainId}","payloadCommitment":"${e.payloadCommitment}","prevHash":"${e.prevHash}","seq":${e.seq},"ts":"${e.ts}","v":1}`;
}

/**
 * Parses entry text that must be the canonical encoding of a valid v1 entry. Non-canonical text
 * (whitespace, key order, escapes, duplicate keys) is rejected, so the bytes hashed and the value
 * read always agree.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` naming the problem.
 *
 * @example
 * ```ts
 * const entry = decodeEntry(stored.body);
 * ```
 */
export function decodeEntry(body: string): AuditEntry {
  const entry = typeof body === "string" ? splitLayout(body) : undefined;
  if (!entry)
    throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "entry is not a canonical v1 entry");
  const problem = contentProblem(entry);
  if (problem !== undefined) throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", problem);
  // Exactly one text encodes a valid entry: re-encoding must give back the same bytes, which
  // refuses whitespace, other member orders, other escapes and duplicate members.
  if (encodeValidEntry(entry) !== body)
    throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "entry is not in canonical form");
  Object.freeze(entry.actor);
  validated.set(Object.freeze(entry), body);
  return entry;
}

const LAYOUT = [
  '{"action":"',
  '","actor":{"id":',
  ',"kind":"',
  '","userId":"',
  '"},"chainId":"',
  '","payloadCommitment":"',
  '","prevHash":"',
  '","seq":',
  ',"ts":"',
  '","v":1}',
] as const;

/**
 * Cuts canonical entry text at the fixed member delimiters of the v1 layout (a JSON string cannot
 * contain `,"` unescaped, so the delimiters are unambiguous). Returns undefined when the text does
 * not have the layout; the caller still re-encodes and compares, so a wrong cut can only reject.
 */
function splitLayout(body: string): AuditEntry | undefined {
  if (!body.startsWith(LAYOUT[0]) || !body.endsWith(LAYOUT[9])) return undefined;
  const parts: string[] = [];
  let at = LAYOUT[0].length;
  for (let i = 1; i < LAYOUT.length; i++) {
    const next = i === 9 ? body.length - LAYOUT[9].length : body.indexOf(LAYOUT[i] as string, at);
    if (next < at) return undefined;
    parts.push(body.slice(at, next));
    at = next + (LAYOUT[i] as string).length;
  }
  const [action, idJson, kind, userId, chainId, payloadCommitment, prevHash, seqText, ts] =
    parts as [string, string, string, string, string, string, string, string, string];
  let id: unknown;
  try {
    id = idJson.includes("\\")
      ? JSON.parse(idJson)
      : idJson.length >= 2 && idJson[0] === '"' && idJson[idJson.length - 1] === '"'
        ? idJson.slice(1, -1)
        : undefined;
  } catch {
    return undefined;
  }
  if (typeof id !== "string" || !/^(?:0|[1-9][0-9]{0,15})$/.test(seqText)) return undefined;
  return {
    v: 1,
    chainId,
    seq: Number(seqText),
    ts,
    actor: { kind: kind as AuditActor["kind"], userId, id },
    action,
    payloadCommitment,
    prevHash,
  };
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

/**
 * The entry hash: `SHA-256(0x00 || UTF-8(body))`, lowercase hex. This is the RFC 6962 / RFC 9162
 * leaf hash of the entry, and the next entry's `prevHash`.
 *
 * @example
 * ```ts
 * entryHash(body, sha256Node); // "9c1f…"
 * ```
 * @throws never.
 */
export function entryHash(body: string, sha256: Sha256): HexHash {
  if (sha256.textHex) return sha256.textHex(`\u0000${body}`);
  const need = body.length * 3 + 1;
  if (scratch.length < need) scratch = new Uint8Array(need);
  scratch[0] = 0x00;
  const { written } = encoder.encodeInto(body, scratch.subarray(1));
  return toHex(sha256(scratch.subarray(0, written + 1)));
}

/** Constant-time-style equality of two hex hashes. */
export const sameHash: (a: HexHash, b: HexHash) => boolean = hexEquals;
