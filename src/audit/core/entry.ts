/**
 * The audit entry (format v1): its fields, their exact canonical encoding and the entry hash.
 * Pure code over strings and bytes (no node: imports) so the browser verifier can reuse it.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import type { Sha256 } from "../primitives/index.js";
import { isHexHash, publicDigestEquals, toHex } from "../primitives/portable.js";
import type { HexHash } from "../storage/index.js";

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

/** 1–256 well-formed UTF-16 code units without control characters. */
function isActorId(id: unknown): id is string {
  return (
    typeof id === "string" &&
    id.length > 0 &&
    id.length <= 256 &&
    id.isWellFormed() &&
    !hasControlChar(id)
  );
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
  return typeof ts === "string" && ts.length === 24 && isIsoUtcAt(ts, 0);
}

/**
 * @internal True when the 24 characters of `s` at `at` are `YYYY-MM-DDTHH:MM:SS.sssZ` naming a
 * real UTC instant (the check of {@link isIsoUtc}, in place, for the verifier's fast path).
 */
export function isIsoUtcAt(s: string, at: number): boolean {
  if (at + 24 > s.length) return false;
  if (
    s.charCodeAt(at + 4) !== 0x2d ||
    s.charCodeAt(at + 7) !== 0x2d ||
    s.charCodeAt(at + 10) !== 0x54 ||
    s.charCodeAt(at + 13) !== 0x3a ||
    s.charCodeAt(at + 16) !== 0x3a ||
    s.charCodeAt(at + 19) !== 0x2e ||
    s.charCodeAt(at + 23) !== 0x5a
  )
    return false;
  const y = digits(s, at, 4);
  const mo = digits(s, at + 5, 2);
  const d = digits(s, at + 8, 2);
  const h = digits(s, at + 11, 2);
  const mi = digits(s, at + 14, 2);
  const sec = digits(s, at + 17, 2);
  const ms = digits(s, at + 20, 3);
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
  return actorProblem(o);
}

/** The actor checks of {@link contentProblem}. */
function actorProblem(o: AuditEntry): string | undefined {
  const actor = o.actor as unknown as Record<string, unknown>;
  if (typeof actor.kind !== "string" || !ACTOR_KINDS.has(actor.kind)) return "invalid actor.kind";
  if (typeof actor.userId !== "string" || !USER_ID.test(actor.userId))
    return "invalid actor.userId";
  if (!isActorId(actor.id)) return "invalid actor.id";
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

/**
 * @internal The text of an entry the audit log is appending. It was built as an object literal,
 * and its two digests are the log's own: `payloadCommitment` was computed by `commitPayload` and
 * `prevHash` is a computed entry hash or a head that passed the store checks. Every other field
 * (the clock's timestamp, the identity's actor, the action, chain id, seq) is checked as
 * {@link encodeEntry} checks it.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` naming the problem.
 */
export function encodeNewEntry(e: AuditEntry): string {
  assertNewEntry(e);
  return encodeValidEntry(e);
}

/** The checks of {@link encodeNewEntry}, in its order. */
function assertNewEntry(e: AuditEntry): void {
  let problem: string | undefined;
  if (!isChainId(e.chainId)) problem = "invalid chainId";
  else if (!Number.isSafeInteger(e.seq) || e.seq < 0) problem = "invalid seq";
  else if (!isIsoUtc(e.ts)) problem = "invalid ts";
  else if (typeof e.action !== "string" || e.action.length > 64 || !ACTION.test(e.action))
    problem = "invalid action";
  else problem = actorProblem(e);
  if (problem !== undefined) throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", problem);
}

/**
 * @internal Checked entry prefixes, per actor object, then chain id, then action: the text of
 * `"\u0000"` and the members `action`, `actor` and `chainId` up to the opening quote of
 * `payloadCommitment`. The actor objects must never change (the audit log keeps one frozen actor
 * per identity) and the map is the log's own.
 */
export type EntryPrefixCache = WeakMap<AuditActor, Map<string, Map<string, string>>>;

/** Chain id and action pairs remembered per actor before that actor's map is emptied. */
const MAX_PREFIXES_PER_ACTOR = 256;
/** The last timestamp that passed {@link isIsoUtc} (the clock repeats it within a millisecond). */
let checkedTs = "";

/**
 * @internal {@link encodeNewEntry} with its 0x00 leaf prefix (`"\u0000" + text`): the same
 * checks in the same order, and the same text, but the checks of the chain id, action and actor
 * (and of a timestamp equal to the last one checked) run once per cached prefix instead of once
 * per entry. A prefix enters `cache` only after those checks passed, and the strings it was built
 * from are immutable, so a hit means the same checks would pass again.
 *
 * @throws {KeywardenError} `ERR_AUDIT_INVALID_ENTRY` naming the problem.
 */
export function encodeNewLeaf(e: AuditEntry, cache: EntryPrefixCache): string {
  const prefix = cache.get(e.actor)?.get(e.chainId)?.get(e.action);
  if (prefix === undefined) return rememberPrefix(e, cache);
  if (!Number.isSafeInteger(e.seq) || e.seq < 0)
    throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "invalid seq");
  if (e.ts !== checkedTs) {
    if (!isIsoUtc(e.ts)) throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "invalid ts");
    checkedTs = e.ts;
  }
  return `${prefix}${entryRest(e)}`;
}

/** The slow path of {@link encodeNewLeaf}: every check, then the prefix remembered. */
function rememberPrefix(e: AuditEntry, cache: EntryPrefixCache): string {
  assertNewEntry(e);
  checkedTs = e.ts;
  const prefix = `\u0000${entryPrefix(e)}`;
  let byChain = cache.get(e.actor);
  if (byChain === undefined || byChain.size >= MAX_PREFIXES_PER_ACTOR) {
    byChain = new Map();
    cache.set(e.actor, byChain);
  }
  let byAction = byChain.get(e.chainId);
  if (byAction === undefined) {
    byAction = new Map();
    byChain.set(e.chainId, byAction);
  }
  if (byAction.size < MAX_PREFIXES_PER_ACTOR) byAction.set(e.action, prefix);
  return `${prefix}${entryRest(e)}`;
}

/** Entries this module validated, with the exact text they encode to (see {@link decodedBody}). */
const validated = new WeakMap<AuditEntry, string>();

/**
 * @internal The canonical text of `entry` when {@link decodeEntry} produced it; lets the verifier
 * skip re-encoding an entry that was already checked.
 */
export function decodedBody(entry: AuditEntry): string | undefined {
  return validated.get(entry);
}

function encodeValidEntry(e: AuditEntry): string {
  return `${entryPrefix(e)}${entryRest(e)}`;
}

/** The canonical text of a valid entry up to the opening quote of `payloadCommitment`'s value. */
function entryPrefix(e: AuditEntry): string {
  return `{"action":"${e.action}","actor":{"id":${JSON.stringify(e.actor.id)},"kind":"${e.actor.kind}","userId":"${e.actor.userId}"},"chainId":"${e.chainId}","payloadCommitment":"`;
}

/** The rest of the canonical text after {@link entryPrefix}. */
function entryRest(e: AuditEntry): string {
  return `${e.payloadCommitment}","prevHash":"${e.prevHash}","seq":${e.seq},"ts":"${e.ts}","v":1}`;
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
  const entry = parseEntry(body);
  if (typeof entry === "string") throw new KeywardenError("ERR_AUDIT_INVALID_ENTRY", entry);
  // Frozen, so the remembered text can never describe a different (mutated) entry.
  Object.freeze(entry.actor);
  validated.set(Object.freeze(entry), body);
  return entry;
}

/** Lowercase hex of a SHA-256 digest. */
const HEX_HASH = "[0-9a-f]{64}";
/**
 * 64 characters a JSON string holds verbatim, standing in for a digest whose hex the caller proves
 * otherwise (see {@link parseEntryUncheckedHashes}). On random digests, a per-character hex class
 * mispredicts a branch on about every other character, which made it the costliest part of the
 * layout match.
 */
const ANY_HASH = '[^"\\\\\\x00-\\x1f]{64}';

/**
 * The canonical text of a v1 entry, member by member: the fixed member order and delimiters of
 * {@link encodeValidEntry}, and for each member only the characters its rules allow, all of which
 * RFC 8785 writes verbatim. The actor id is a JSON string whose escapes are checked afterwards.
 */
function entrySource(hash: string): string {
  return [
    '\\{"action":"([a-z][a-z0-9-]*(?:\\.[a-z][a-z0-9-]*)+)"',
    ',"actor":\\{"id":("(?:[^"\\\\\\x00-\\x1f\\x7f]|\\\\.)+")',
    ',"kind":"(session|grant|host|operator)"',
    ',"userId":"([A-Za-z0-9][A-Za-z0-9._:@-]{0,127})"\\}',
    ',"chainId":"(operator|user:[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})"',
    `,"payloadCommitment":"(${hash})"`,
    `,"prevHash":"(${hash})"`,
    ',"seq":(0|[1-9][0-9]{0,15})',
    ',"ts":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z)"',
    ',"v":1\\}',
  ].join("");
}

/** The v1 entry layout (groups 1–9, read by {@link entryOfMatch}). */
const ENTRY_SOURCE = entrySource(HEX_HASH);
/** @internal {@link ENTRY_SOURCE} with the hex of the two hash members left to the caller. */
export const ENTRY_SOURCE_UNCHECKED_HASHES = entrySource(ANY_HASH);
const ENTRY_TEXT = new RegExp(`^${ENTRY_SOURCE}$`);
const ENTRY_TEXT_UNCHECKED_HASHES = new RegExp(`^${ENTRY_SOURCE_UNCHECKED_HASHES}$`);
/**
 * @internal The entry whose canonical encoding `body` is, or why it is not one (the message of
 * {@link decodeEntry}'s error). Throws nothing and leaves the result unfrozen and unregistered:
 * this is the verifier's per-entry hot path.
 *
 * Accepting takes the member layout {@link ENTRY_TEXT}, which already enforces every field rule
 * that is about characters, plus the rules it cannot express (see {@link entryOfMatch}). The text
 * is then exactly what {@link encodeValidEntry} writes for those values: its canonical form.
 * A refused text is diagnosed on the reference path (`JSON.parse` and {@link entryProblem}).
 * A differential property test holds acceptance equal to
 * `entryProblem(JSON.parse(body)) === undefined && canonicalize(JSON.parse(body)) === body`.
 */
export function parseEntry(body: string): AuditEntry | string {
  const m = typeof body === "string" ? ENTRY_TEXT.exec(body) : null;
  return (m === null ? undefined : entryOfMatch(m)) ?? whyNotEntry(body);
}

/**
 * @internal {@link parseEntry}, except that `payloadCommitment` and `prevHash` are only known to be
 * 64 characters that need no escaping, and a refusal is `undefined`. The caller must prove both
 * lowercase hex before accepting the entry (the verifier compares them with digests it computed,
 * and checks a redacted entry's commitment explicitly) and must name a failure with
 * {@link parseEntry}.
 */
export function parseEntryUncheckedHashes(body: string): AuditEntry | undefined {
  const m = typeof body === "string" ? ENTRY_TEXT_UNCHECKED_HASHES.exec(body) : null;
  return m === null ? undefined : entryOfMatch(m);
}

/**
 * @internal The entry of a match of {@link ENTRY_SOURCE} (its groups from `m[1]`), when its values
 * also pass the rules the layout cannot express:
 * a real calendar instant, a safe integer `seq`, an action of at most 64 characters, and an actor
 * id that is a valid id whose text is `JSON.stringify` of its value (without a backslash, the
 * layout already guarantees that).
 */
export function entryOfMatch(m: RegExpExecArray): AuditEntry | undefined {
  const action = m[1] as string;
  const idText = m[2] as string;
  const seq = Number(m[8]);
  const ts = m[9] as string;
  let id: unknown;
  if (!idText.includes("\\")) id = idText.slice(1, -1);
  else {
    try {
      id = JSON.parse(idText);
    } catch {
      id = undefined;
    }
    if (JSON.stringify(id) !== idText) id = undefined;
  }
  if (action.length > 64 || !Number.isSafeInteger(seq) || !isIsoUtc(ts) || !isActorId(id))
    return undefined;
  return {
    v: 1,
    chainId: m[5] as string,
    seq,
    ts,
    actor: { kind: m[3] as AuditActor["kind"], userId: m[4] as string, id },
    action,
    payloadCommitment: m[6] as string,
    prevHash: m[7] as string,
  };
}

/** The reference diagnosis of a text {@link parseEntry} refused. Always a reason, never a pass. */
function whyNotEntry(body: unknown): string {
  let value: unknown;
  try {
    value = JSON.parse(body as string);
  } catch {
    return "entry is not a canonical v1 entry";
  }
  return entryProblem(value) ?? "entry is not in canonical form";
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

/**
 * @internal {@link entryHash} of a body given with its 0x00 prefix (`leaf` = `"\u0000" + body`).
 */
export function leafHash(leaf: string, sha256: Sha256): HexHash {
  return sha256.textHex ? sha256.textHex(leaf) : entryHash(leaf.slice(1), sha256);
}

/** Equality of two public hex digests (see {@link publicDigestEquals} for why it is plain). */
export const sameHash: (a: HexHash, b: HexHash) => boolean = publicDigestEquals;
