/**
 * The streaming chain verifier: feed it entries in order from any source (a store, a JSON Lines or
 * CSV export) and it returns either `{ ok: true, size, headHash }` or the first broken `seq` and
 * why. Pure code over strings (no node: imports), parameterized by the SHA-256 implementation, so
 * the same verifier runs in a browser.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import type { Sha256 } from "../primitives/index.js";
import { isHexHash, toHex } from "../primitives/portable.js";
import type { ChainHead, HexHash } from "../storage/index.js";
import { openingMatches } from "./commitment.js";
import {
  type AuditEntry,
  decodedBody,
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  parseEntry,
  parseEntryUncheckedHashes,
  sameHash,
} from "./entry.js";
import {
  asciiAt,
  bytesAt,
  canonicalOpeningBytesDigest,
  canonicalOpeningDigest,
  copyBytes,
  entryHeadLength,
  entryTailBytesMatch,
  entryTailMatches,
  expectedTail,
  expectedTailLength,
  isHexHashAt,
  isHexHashBytesAt,
  scratchView,
} from "./entry-accept.js";

/** Why verification failed. A closed set: new reasons are a breaking change. */
export type VerifyFailureReason =
  /** The stored/exported hash is not SHA-256(0x00 || body). */
  | "hash-mismatch"
  /** `prevHash` is not the previous entry's hash (or not the genesis value at seq 0). */
  | "broken-link"
  /** An entry is missing: a higher seq came where the next one was expected. */
  | "gap"
  /** Entries are out of order (a lower seq, or the missing seq right after a higher one). */
  | "reorder"
  /** The previous seq appears again. */
  | "duplicate"
  /** The entry belongs to another chain. */
  | "foreign-chain"
  /** The entry or its container (line, row) is not valid format v1. */
  | "malformed"
  /** A payload opening is present but does not match the entry's commitment. */
  | "payload-mismatch"
  /** Fewer entries than the expected size: the log was truncated. */
  | "truncated"
  /** Entry `expected.size - 1` is not the expected head hash: the history was rewritten. */
  | "head-mismatch";

/** The chain verified. */
export interface VerifyValid {
  readonly ok: true;
  /** Chain id of the entries, or `null` for an empty input. */
  readonly chainId: string | null;
  readonly size: number;
  readonly headHash: HexHash | null;
  /** Entries whose payload was erased (they verify as redacted). */
  readonly redacted: number;
}

/** The first problem found. */
export interface VerifyBroken {
  readonly ok: false;
  /** The first seq that is not as it should be. */
  readonly seq: number;
  readonly reason: VerifyFailureReason;
  /** Human-readable detail; never contains payload data. */
  readonly message: string;
  /** 1-based line (JSONL) or record (CSV) number, when verifying a file. */
  readonly line?: number;
}

/** Result of a verification, as data. */
export type VerifyResult = VerifyValid | VerifyBroken;

/** One entry handed to the verifier. */
export interface VerifyItem {
  /** Canonical entry text (the hashed bytes). */
  readonly body: string;
  /** Hash claimed by the source, checked against the recomputed one when present. */
  readonly hash?: HexHash | undefined;
  /** Payload opening text, or `null`/absent when erased. */
  readonly payload?: string | null | undefined;
  /** The decoded `body`, when the source already decoded it (re-checked: it must encode to `body`). */
  readonly entry?: AuditEntry | undefined;
  /** Position in the source file, for messages. */
  readonly line?: number | undefined;
}

/** Options of {@link ChainVerifier}. */
export interface VerifyOptions {
  /** SHA-256 implementation (`sha256Node` on Node, `sha256Portable` elsewhere). */
  readonly sha256: Sha256;
  /** Require every entry to belong to this chain. Default: the first entry's chain. */
  readonly chainId?: string | undefined;
  /** A head obtained out of band: detects truncation and rewritten history. */
  readonly expected?: ChainHead | undefined;
  /**
   * How many entries the source may hold at most (an export manifest's `size`): an entry with a
   * `seq` at or beyond it is `malformed`. Default: unbounded.
   */
  readonly maxEntries?: number | undefined;
}

let acceptNext: (
  verifier: ChainVerifier,
  body: string,
  hash: string | undefined,
  payload: string | null | undefined,
) => boolean;

/**
 * @internal The verifier's fast path (see entry-accept.ts): true when `body` (with its claimed
 * `hash` and its `payload` opening) is exactly the entry the chain expects next and passes every
 * check {@link ChainVerifier.push} makes, and then the verifier has taken it; false when that is
 * not proven (the verifier is unchanged, and the caller must push the entry the full way, which
 * names any failure).
 */
export function acceptNextEntry(
  verifier: ChainVerifier,
  body: string,
  hash: string | undefined,
  payload: string | null | undefined,
): boolean {
  return acceptNext(verifier, body, hash, payload);
}

let acceptNextLine: (
  verifier: ChainVerifier,
  bytes: Uint8Array,
  start: number,
  end: number,
) => boolean;

/**
 * @internal {@link acceptNextEntry} for a JSON Lines export line given as its UTF-8 bytes
 * `bytes[start, end)` (without the LF), not decoded: true when the line is
 * `{"entry":<body>,"hash":"<hash>","payload":<opening>|null}` and `acceptNextEntry` would take
 * that body, hash and opening (then the verifier has taken it); false when that is not proven
 * (nothing changed; the caller decodes the line and takes the full path). An accepted line is
 * valid UTF-8 without a CR: its bytes are those of a head accepted before, ASCII the verifier
 * checked, and an opening that is ASCII or decoded strictly.
 */
export function acceptNextEntryLine(
  verifier: ChainVerifier,
  bytes: Uint8Array,
  start: number,
  end: number,
): boolean {
  return acceptNextLine(verifier, bytes, start, end);
}

let pushDecodedEntry: (
  verifier: ChainVerifier,
  entry: AuditEntry,
  item: VerifyItem,
) => VerifyBroken | undefined;

/**
 * @internal {@link ChainVerifier.push} for a source that already decoded `item.body` into `entry`
 * with `parseEntryUncheckedHashes` (the JSON Lines reader cuts and decodes a line in one pass);
 * the verifier proves the hex of the entry's hashes and of `item.hash` itself. The caller vouches
 * that `entry` is the decoding of `item.body`, so this is not part of the public API.
 */
export function pushUncheckedEntry(
  verifier: ChainVerifier,
  entry: AuditEntry,
  item: VerifyItem,
): VerifyBroken | undefined {
  return pushDecodedEntry(verifier, entry, item);
}

const ENTRY_PREFIX = '{"entry":';
const HASH_SEP = ',"hash":"';
const PAYLOAD_SEP = '","payload":';
/** The length of `"ts":"YYYY-MM-DDTHH:MM:SS.sssZ","v":1}`. */
const TS_TAIL_BYTES = '"ts":"'.length + 24 + '","v":1}'.length;
const textEncoder = new TextEncoder();
let leafScratch = new Uint8Array(4096);
/** Views of `leafScratch` by length, so hashing a leaf allocates no view once warm. */
const leafViews = new Map<number, Uint8Array>();

/** {@link entryHash} of the entry text whose UTF-8 bytes are `bytes[start, end)`. */
function entryHashOfBytes(bytes: Uint8Array, start: number, end: number, sha256: Sha256): string {
  const n = end - start + 1;
  if (leafScratch.length < n) leafScratch = new Uint8Array(Math.max(n, 2 * leafScratch.length));
  leafScratch[0] = 0x00;
  copyBytes(leafScratch, 1, bytes, start, end);
  const view = scratchView(leafViews, leafScratch, 0, n);
  return sha256.bytesHex ? sha256.bytesHex(view) : toHex(sha256(view));
}

/**
 * Incremental verifier: call {@link ChainVerifier.push} per entry in file order, then
 * {@link ChainVerifier.finish}. After the first failure every call returns that failure.
 *
 * @example
 * ```ts
 * const v = new ChainVerifier({ sha256: sha256Node });
 * for await (const e of store.read(chainId, 0)) if (v.push(e)) break;
 * const result = v.finish();
 * ```
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` (constructor) without a sha256 function or
 * with an invalid `maxEntries`.
 */
export class ChainVerifier {
  readonly #o: VerifyOptions;
  #chainId: string | null;
  #next = 0;
  #prev: HexHash = GENESIS_PREV_HASH;
  #redacted = 0;
  #failure: VerifyBroken | undefined;
  /** A higher seq seen where `#next` was expected: gap, unless `#next` follows (reorder). */
  #ahead: { seq: number; line: number | undefined } | undefined;
  /**
   * Heads (the text up to `"payloadCommitment":"`) of recent entries accepted on the full path,
   * most recent first: an entry that starts with one has that `action`, `actor` and `chainId`.
   */
  #heads: string[] = [];
  /** The UTF-8 bytes of each of {@link #heads}, in the same order. */
  #headBytes: Uint8Array[] = [];

  constructor(options: VerifyOptions) {
    if (typeof options?.sha256 !== "function")
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "verify needs a sha256 function");
    const max = options.maxEntries;
    if (max !== undefined && (!Number.isSafeInteger(max) || max < 0))
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "maxEntries must be a non-negative integer");
    this.#o = options;
    this.#chainId = options.chainId ?? null;
  }

  #fail(seq: number, reason: VerifyFailureReason, message: string, line?: number): VerifyBroken {
    this.#failure = { ok: false, seq, reason, message, ...(line === undefined ? {} : { line }) };
    return this.#failure;
  }

  #reject(
    unchecked: boolean,
    item: VerifyItem,
    seq: number,
    reason: VerifyFailureReason,
    message: string,
    line: number | undefined,
  ): VerifyBroken {
    return unchecked
      ? this.#failStrictly(item, seq, reason, message, line)
      : this.#fail(seq, reason, message, line);
  }

  /** {@link #fail}, unless the strict decoding of `item` names a malformed entry or hash first. */
  #failStrictly(
    item: VerifyItem,
    seq: number,
    reason: VerifyFailureReason,
    message: string,
    line: number | undefined,
  ): VerifyBroken {
    const why = parseEntry(item.body);
    if (typeof why === "string") return this.#fail(this.#next, "malformed", why, line);
    if (item.hash !== undefined && !isHexHash(item.hash))
      return this.#fail(this.#next, "malformed", "hash is not 64 lowercase hex characters", line);
    return this.#fail(seq, reason, message, line);
  }

  /** Records a container-level problem (unparseable line, bad row) at the current position. */
  malformed(message: string, line?: number): VerifyBroken {
    if (this.#failure) return this.#failure;
    return this.#fail(this.#next, "malformed", message, line);
  }

  /** Verifies the next entry; returns the failure (then stop feeding) or `undefined`. */
  push(item: VerifyItem): VerifyBroken | undefined {
    if (this.#failure) return this.#failure;
    const line = item.line;
    if (item.entry === undefined && this.#accept(item.body, item.hash, item.payload))
      return undefined;
    if (item.entry !== undefined) {
      const entry = item.entry;
      // An entry this library decoded carries its checked text; anything else is re-encoded.
      let text = decodedBody(entry);
      try {
        text ??= encodeEntry(entry);
      } catch (err) {
        const why = err instanceof KeywardenError ? err.message : "invalid entry";
        return this.#fail(this.#next, "malformed", why, line);
      }
      if (text !== item.body)
        return this.#fail(this.#next, "malformed", "decoded entry does not match its text", line);
      return this.#pushDecoded(entry, item, false);
    }
    const parsed = parseEntryUncheckedHashes(item.body);
    if (parsed === undefined) {
      const why = parseEntry(item.body);
      return this.#fail(
        this.#next,
        "malformed",
        typeof why === "string" ? why : "invalid entry",
        line,
      );
    }
    return this.#pushDecoded(parsed, item, true);
  }

  static {
    pushDecodedEntry = (v, entry, item) => v.#failure ?? v.#pushDecoded(entry, item, true);
    acceptNext = (v, body, hash, payload) =>
      v.#failure === undefined && v.#accept(body, hash, payload);
    acceptNextLine = (v, bytes, start, end) =>
      v.#failure === undefined && v.#acceptLine(bytes, start, end);
  }

  /**
   * {@link #accept} over the bytes of an export line: the same checks in the same terms (a
   * remembered head, the commitment computed from the opening, the expected tail, the claimed
   * hash equal to the computed one, the size and head limits); false changes nothing.
   */
  #acceptLine(bytes: Uint8Array, start: number, end: number): boolean {
    const heads = this.#headBytes;
    if (heads.length === 0 || this.#ahead || bytes[end - 1] !== 0x7d) return false;
    if (!asciiAt(bytes, start, ENTRY_PREFIX)) return false;
    const bodyAt = start + ENTRY_PREFIX.length;
    let at = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i] as Uint8Array;
      if (bytesAt(bytes, bodyAt, head)) {
        at = bodyAt + head.length;
        break;
      }
    }
    const seq = this.#next;
    const max = this.#o.maxEntries;
    if (at < 0 || (max !== undefined && seq >= max)) return false;
    const bodyEnd = at + 64 + expectedTailLength(seq) + TS_TAIL_BYTES;
    const hashAt = bodyEnd + HASH_SEP.length;
    const payloadAt = hashAt + 64 + PAYLOAD_SEP.length;
    if (
      payloadAt >= end - 1 ||
      !asciiAt(bytes, bodyEnd, HASH_SEP) ||
      !asciiAt(bytes, hashAt + 64, PAYLOAD_SEP)
    )
      return false;
    const sha256 = this.#o.sha256;
    const redacted = end - 1 - payloadAt === 4 && asciiAt(bytes, payloadAt, "null");
    if (redacted) {
      if (!isHexHashBytesAt(bytes, at)) return false;
    } else {
      const digest = canonicalOpeningBytesDigest(bytes, payloadAt, end - 1, sha256);
      if (digest === undefined || !asciiAt(bytes, at, digest)) return false;
    }
    if (!entryTailBytesMatch(bytes, at, bodyEnd, this.#prev, seq)) return false;
    const hash = entryHashOfBytes(bytes, bodyAt, bodyEnd, sha256);
    if (!asciiAt(bytes, hashAt, hash)) return false;
    const expected = this.#o.expected;
    if (expected && seq === expected.size - 1 && hash !== expected.headHash) return false;
    if (redacted) this.#redacted++;
    this.#prev = hash;
    this.#next++;
    return true;
  }

  /**
   * The fast path: true when `body` starts with a remembered head and its tail is exactly what
   * the next entry's must be (see entry-accept.ts), its opening is canonical and opens its
   * commitment, its hash is the claimed one and the size and head limits hold; the verifier has
   * then taken the entry exactly as {@link #pushDecoded} would. False changes nothing.
   */
  #accept(body: string, claimed: string | undefined, payload: string | null | undefined): boolean {
    const heads = this.#heads;
    if (typeof body !== "string" || heads.length === 0 || this.#ahead) return false;
    let at = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i] as string;
      // A substring compared whole is faster than startsWith on the strings stores return.
      if (body.substr(0, head.length) === head) {
        at = head.length;
        break;
      }
    }
    const seq = this.#next;
    const max = this.#o.maxEntries;
    if (at < 0 || (max !== undefined && seq >= max)) return false;
    const sha256 = this.#o.sha256;
    if (payload === null || payload === undefined) {
      if (!isHexHashAt(body, at)) return false;
    } else {
      if (typeof payload !== "string") return false;
      const digest = canonicalOpeningDigest(payload, sha256);
      if (digest === undefined || body.substr(at, 64) !== digest) return false;
    }
    if (!entryTailMatches(body, at, expectedTail(this.#prev, seq))) return false;
    const hash = entryHash(body, sha256);
    if (claimed !== undefined && hash !== claimed) return false;
    const expected = this.#o.expected;
    if (expected && seq === expected.size - 1 && hash !== expected.headHash) return false;
    if (payload === null || payload === undefined) this.#redacted++;
    this.#prev = hash;
    this.#next++;
    return true;
  }

  /** Remembers the head of `body`, an entry just accepted on the full path (at most 4 heads). */
  #rememberHead(body: string, seq: number): void {
    const head = body.slice(0, entryHeadLength(body, seq));
    const heads = this.#heads;
    if (heads.includes(head)) return;
    if (heads.length === 4) {
      heads.pop();
      this.#headBytes.pop();
    }
    heads.unshift(head);
    this.#headBytes.unshift(textEncoder.encode(head));
  }

  /**
   * The chain checks of an entry known to be the decoding of `item.body`. With `unchecked`, the
   * hex of `entry.prevHash`, `entry.payloadCommitment` and `item.hash` is not known yet: equality
   * with a digest computed here proves it, anything else is checked before accepting, and every
   * failure is first re-diagnosed with the strict decoder, so results are exactly the strict ones.
   */
  #pushDecoded(entry: AuditEntry, item: VerifyItem, unchecked: boolean): VerifyBroken | undefined {
    const line = item.line;
    if (this.#ahead) {
      const ahead = this.#ahead;
      return entry.seq === this.#next
        ? this.#reject(
            unchecked,
            item,
            this.#next,
            "reorder",
            `seq ${ahead.seq} appears before seq ${this.#next}`,
            ahead.line,
          )
        : this.#reject(
            unchecked,
            item,
            this.#next,
            "gap",
            `seq ${this.#next} is missing`,
            ahead.line,
          );
    }
    if (this.#chainId === null) this.#chainId = entry.chainId;
    else if (entry.chainId !== this.#chainId)
      return this.#reject(
        unchecked,
        item,
        this.#next,
        "foreign-chain",
        "entry belongs to another chain",
        line,
      );
    const max = this.#o.maxEntries;
    if (max !== undefined && entry.seq >= max)
      return this.#reject(
        unchecked,
        item,
        this.#next,
        "malformed",
        `more entries than the ${max} promised`,
        line,
      );
    if (entry.seq !== this.#next) {
      if (entry.seq > this.#next) {
        if (unchecked && !(isHexHash(entry.prevHash) && isHexHash(entry.payloadCommitment)))
          return this.#failStrictly(item, this.#next, "malformed", "invalid entry", line);
        this.#ahead = { seq: entry.seq, line };
        return undefined;
      }
      if (entry.seq === this.#next - 1)
        return this.#reject(
          unchecked,
          item,
          this.#next,
          "duplicate",
          `seq ${entry.seq} appears twice`,
          line,
        );
      return this.#reject(
        unchecked,
        item,
        this.#next,
        "reorder",
        `seq ${entry.seq} appears after seq ${this.#next - 1}`,
        line,
      );
    }
    const hash = entryHash(item.body, this.#o.sha256);
    if (item.hash !== undefined && !sameHash(hash, item.hash))
      return this.#reject(
        unchecked,
        item,
        entry.seq,
        "hash-mismatch",
        "entry hash does not match its text",
        line,
      );
    if (!sameHash(entry.prevHash, this.#prev))
      return this.#reject(
        unchecked,
        item,
        entry.seq,
        "broken-link",
        "prevHash does not match the previous entry",
        line,
      );
    if (item.payload === null || item.payload === undefined) {
      if (unchecked && !isHexHash(entry.payloadCommitment))
        return this.#failStrictly(item, entry.seq, "malformed", "invalid payloadCommitment", line);
      this.#redacted++;
    } else {
      let matches: boolean;
      try {
        matches = openingMatches(item.payload, entry.payloadCommitment, this.#o.sha256);
      } catch {
        return this.#reject(
          unchecked,
          item,
          entry.seq,
          "malformed",
          "payload opening is malformed",
          line,
        );
      }
      if (!matches)
        return this.#reject(
          unchecked,
          item,
          entry.seq,
          "payload-mismatch",
          "payload does not match its commitment",
          line,
        );
    }
    const expected = this.#o.expected;
    if (expected && entry.seq === expected.size - 1 && !sameHash(hash, expected.headHash ?? ""))
      return this.#reject(
        unchecked,
        item,
        entry.seq,
        "head-mismatch",
        "entry differs from the expected head",
        line,
      );
    this.#prev = hash;
    this.#next++;
    this.#rememberHead(item.body, entry.seq);
    return undefined;
  }

  /** The result after the last entry. */
  finish(): VerifyResult {
    if (this.#failure) return this.#failure;
    if (this.#ahead)
      return this.#fail(this.#next, "gap", `seq ${this.#next} is missing`, this.#ahead.line);
    const expected = this.#o.expected;
    if (expected && this.#next < expected.size)
      return this.#fail(
        this.#next,
        "truncated",
        `expected ${expected.size} entries, found ${this.#next}`,
      );
    return {
      ok: true,
      chainId: this.#chainId,
      size: this.#next,
      headHash: this.#next === 0 ? null : this.#prev,
      redacted: this.#redacted,
    };
  }

  /** Entries verified so far. */
  get verified(): number {
    return this.#next;
  }
}

/**
 * Verifies a whole source. A source that throws `ERR_AUDIT_MALFORMED_INPUT` (bad line, invalid
 * UTF-8, oversized line) yields a `malformed` result naming the line; never a crash, never a pass.
 *
 * @example
 * ```ts
 * const result = await verifyEntries(store.read("user:42", 0), { sha256: sha256Node });
 * if (!result.ok) alertAuditor(`broken at seq ${result.seq}: ${result.reason}`);
 * ```
 * @throws {KeywardenError} only for errors other than malformed input (e.g. store I/O).
 */
export async function verifyEntries(
  source: AsyncIterable<VerifyItem> | Iterable<VerifyItem>,
  options: VerifyOptions & { onProgress?: (verified: number) => void },
): Promise<VerifyResult> {
  const v = new ChainVerifier(options);
  try {
    for await (const item of source) {
      if (v.push(item)) break;
      if (options.onProgress && v.verified % 65536 === 0) options.onProgress(v.verified);
    }
  } catch (err) {
    if (err instanceof KeywardenError && err.code === "ERR_AUDIT_MALFORMED_INPUT") {
      const line = err.details?.line;
      return v.malformed(err.message, typeof line === "number" ? line : undefined);
    }
    throw err;
  }
  return v.finish();
}

/**
 * Throws unless `result` is valid: the assert form of a {@link VerifyResult}.
 *
 * @example
 * ```ts
 * assertChainValid(await log.verifyChain("user:42"));
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHAIN_BROKEN` with `details: { seq, reason, line? }`.
 */
export function assertChainValid(result: VerifyResult): asserts result is VerifyValid {
  if (!result.ok)
    throw new KeywardenError(
      "ERR_AUDIT_CHAIN_BROKEN",
      `audit chain broken at seq ${result.seq}: ${result.reason}${result.line === undefined ? "" : ` (line ${result.line})`}`,
      { details: { seq: result.seq, reason: result.reason, line: result.line ?? null } },
    );
}
