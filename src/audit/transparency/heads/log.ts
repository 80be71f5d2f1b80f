/**
 * The operator-wide heads log: one RFC 9162 log, with its own origin and signing key, whose leaves
 * record every published per-chain checkpoint (leaf.ts), published as C2SP tlog-tiles in a
 * directory. Integration is batched: any number of chain checkpoints queued during an interval
 * become one heads checkpoint, signed once, then (optionally) cosigned once per witness through the
 * `cosign` hook before it is published.
 *
 * @packageDocumentation
 */
import { createHmac } from "node:crypto";
import { KeywardenError } from "../../../errors.js";
import type { Secret } from "../../../secret.js";
import { formatCheckpoint, isValidOrigin, parseCheckpoint } from "../checkpoint.js";
import { type NoteSigner, parseNote, signNote } from "../note.js";
import { formatReceipt } from "../receipt.js";
import {
  directoryTileFetcher,
  TileDirectoryWriter,
  type TileFetcher,
  TileLogClient,
  TileLogWriter,
  type TileStorage,
} from "../tiles/index.js";
import { deriveChainKey, encodeHeadLeaf, type HmacSha256 } from "./leaf.js";

/** node:crypto HMAC-SHA256 (the operator side; verifiers use the portable one). */
const hmacNode: HmacSha256 = (key, message) =>
  new Uint8Array(createHmac("sha256", key).update(message).digest());

/** A chain checkpoint to record: its origin, size, root and time. */
export interface ChainHead {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly timestamp: number;
}

/**
 * Collects witness cosignatures for a freshly signed heads checkpoint: given the note, a function
 * giving the consistency proof from any older size (witnesses may be behind), and the previously
 * published size, returns the note with the cosignature lines added. {@link collectCosignatures}
 * fits: `(note, proofFrom) => collectCosignatures({ witnesses, note, proofFrom }).then((r) => r.note)`.
 */
export type HeadsCosign = (
  note: string,
  proofFrom: (oldSize: number) => Promise<Uint8Array[]>,
  previousSize: number,
) => Promise<string>;

/** Options of {@link HeadsLog.open}. */
export interface HeadsLogOptions {
  /** Directory the tiles and checkpoint are published in (or give `storage`). */
  readonly dir?: string;
  /**
   * Where to publish instead of a directory, e.g. an S3-compatible bucket
   * (`s3TileStorage` from `keywarden/audit/tiles-s3`).
   */
  readonly storage?: TileStorage;
  /** The heads log's origin, e.g. `audit.example.com/keywarden-heads`. */
  readonly origin: string;
  /** The heads log's signer (key name should equal the origin). */
  readonly signer: NoteSigner;
  /** The operator's heads secret (≥ 32 bytes), from which every chain key is derived. */
  readonly headsSecret: Secret;
  /** Witness step; when absent the checkpoint is published with the log signature only. */
  readonly cosign?: HeadsCosign;
  /** Clock in POSIX seconds (default: now). */
  readonly now?: () => number;
}

/** The result of one integration. */
export interface HeadsBatch {
  /** The published heads checkpoint note (with cosignatures when `cosign` is set). */
  readonly note: string;
  /** The heads tree size after the batch. */
  readonly size: number;
  /** Heads index of the first leaf of the batch; leaves are in queue order. */
  readonly firstIndex: number;
  readonly count: number;
  /**
   * The chain checkpoints of the batch, by heads index: for each, the chain's origin and size
   * (undefined for leaves queued with `enqueueLeaf`), so the host can deliver each user their
   * heads receipt (`receipt(index)`).
   */
  readonly heads: readonly HeadsBatchEntry[];
}

/** One leaf of a {@link HeadsBatch}. */
export interface HeadsBatchEntry {
  readonly index: number;
  readonly origin: string | undefined;
  readonly size: number | undefined;
}

/**
 * The operator's heads log.
 *
 * @example
 * ```ts
 * const heads = await HeadsLog.open({ dir, origin, signer, headsSecret });
 * const at = heads.enqueue({ origin: cp.origin, size: cp.size, rootHash: cp.rootHash, timestamp: cp.timestamp });
 * const batch = await heads.integrate();           // once per interval
 * const receipt = await heads.receipt(batch.firstIndex + at);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a bad origin; errors of the tile writer.
 */
export class HeadsLog {
  readonly #options: HeadsLogOptions;
  readonly #writer: TileLogWriter;
  readonly #fetcher: TileFetcher;
  #pending: Uint8Array[] = [];
  #pendingHeads: { origin: string | undefined; size: number | undefined }[] = [];
  /** Leaves already in the tiles whose checkpoint was not published (a failed integration). */
  #carried: HeadsBatchEntry[] = [];
  #note: string | undefined;
  #publishedSize: number;

  private constructor(
    options: HeadsLogOptions,
    writer: TileLogWriter,
    fetcher: TileFetcher,
    note: string | undefined,
  ) {
    this.#options = options;
    this.#writer = writer;
    this.#fetcher = fetcher;
    this.#note = note;
    this.#publishedSize = writer.size;
  }

  /** Opens (or starts) the heads log in `options.dir` (or on `options.storage`). */
  static async open(options: HeadsLogOptions): Promise<HeadsLog> {
    if (!isValidOrigin(options.origin))
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid heads origin");
    const { dir, storage } = options;
    if ((dir === undefined) === (storage === undefined))
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "give exactly one of dir and storage");
    const writer =
      storage !== undefined
        ? await TileLogWriter.openStorage(storage)
        : await TileDirectoryWriter.open(dir as string);
    const fetcher = storage?.fetcher ?? directoryTileFetcher(dir as string);
    const note = await new TileLogClient(fetcher).checkpointNote();
    if (note !== undefined && parseCheckpoint(parseNote(note).text).origin !== options.origin) {
      throw new KeywardenError(
        "ERR_AUDIT_CHECKPOINT_INVALID",
        "heads directory belongs to another origin",
      );
    }
    return new HeadsLog(options, writer, fetcher, note);
  }

  /** The published heads size. */
  get size(): number {
    return this.#publishedSize;
  }

  /** The latest published heads checkpoint note, if any. */
  get checkpointNote(): string | undefined {
    return this.#note;
  }

  /** The chain key to deliver to the owner of `chainOrigin` (with their first checkpoint). */
  chainKey(chainOrigin: string): Uint8Array {
    return deriveChainKey(this.#options.headsSecret, chainOrigin, hmacNode);
  }

  /**
   * Queues a chain checkpoint; returns its position in the next batch.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a malformed head.
   */
  enqueue(head: ChainHead): number {
    this.#pending.push(
      encodeHeadLeaf(
        this.chainKey(head.origin),
        { size: head.size, rootHash: head.rootHash, time: head.timestamp },
        hmacNode,
      ),
    );
    this.#pendingHeads.push({ origin: head.origin, size: head.size });
    return this.#pending.length - 1;
  }

  /** Queues an already-encoded leaf (for callers that derive keys themselves); returns its position. */
  enqueueLeaf(leaf: Uint8Array): number {
    this.#pending.push(leaf);
    this.#pendingHeads.push({ origin: undefined, size: undefined });
    return this.#pending.length - 1;
  }

  /**
   * Integrates every queued leaf: writes tiles, signs one heads checkpoint, collects cosignatures,
   * publishes. Returns undefined when nothing was queued.
   *
   * @throws {KeywardenError} from the writer, signer or cosign step. When the tiles could not be
   * written the queue is kept; when signing, cosigning or publishing failed after that, the
   * leaves stay in the tiles and are signed, published and listed with the next batch.
   */
  async integrate(): Promise<HeadsBatch | undefined> {
    if (this.#pending.length > 0) {
      const start = this.#writer.size;
      await this.#writer.append(this.#pending);
      this.#carried.push(...this.#pendingHeads.map((m, i) => ({ index: start + i, ...m })));
      this.#pending = [];
      this.#pendingHeads = [];
    }
    const heads = this.#carried;
    if (heads.length === 0) return undefined;
    const size = this.#writer.size;
    const now = this.#options.now?.() ?? Math.floor(Date.now() / 1000);
    const text = formatCheckpoint({
      origin: this.#options.origin,
      size,
      rootHash: this.#writer.root(),
      timestamp: now,
      extensions: [],
    });
    let note = await signNote(text, [this.#options.signer]);
    if (this.#options.cosign !== undefined) {
      const client = new TileLogClient(this.#fetcher);
      const proofFrom = (old: number) => client.consistencyProof(old, size);
      note = await this.#options.cosign(note, proofFrom, this.#publishedSize);
    }
    await this.#writer.publishCheckpoint(note);
    this.#note = note;
    this.#publishedSize = size;
    this.#carried = [];
    return { note, size, firstIndex: heads[0]?.index ?? size, count: heads.length, heads };
  }

  /**
   * The heads receipt (`c2sp.org/tlog-proof@v1`, `extra` = the leaf) of heads leaf `index` under
   * the latest published heads checkpoint.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the index is not published yet.
   */
  async receipt(index: number, client = new TileLogClient(this.#fetcher)): Promise<string> {
    const note = this.#note;
    const size = this.#publishedSize;
    if (note === undefined || index >= size) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "heads leaf is not published yet");
    }
    const [extra, proof] = await Promise.all([
      client.entry(index, size),
      client.inclusionProof(index, size),
    ]);
    return formatReceipt({ extra, index, proof, checkpointNote: note });
  }
}
