/**
 * Where a tiled log is published: the adapter contract between {@link TileLogWriter} and a
 * directory (directory.ts), an S3-compatible bucket (s3.ts) or the host's own store.
 *
 * The writer relies on exactly these guarantees; a storage that cannot give them must not
 * implement this interface.
 *
 * @packageDocumentation
 */
import type { TileFetcher } from "./reader.js";

/** Options of {@link TileStorage.putImmutable}, set by the writer. */
export interface TilePutOptions {
  /**
   * `true` when `path` lies beyond the published checkpoint (a full tile whose index is at or past
   * the published tree's coverage, or a partial tile wider than the published one): no reader
   * relies on it, and a resource already there — left by an append whose checkpoint was never
   * published, e.g. a crashed process — is replaced when its bytes differ. Absent or `false`: the
   * resource is immutable and never replaced.
   */
  readonly uncovered?: boolean;
}

/** A place to publish a C2SP tlog-tiles log. */
export interface TileStorage {
  /** Reads resources back (`checkpoint`, tiles, entry bundles); `undefined` when absent. */
  readonly fetcher: TileFetcher;

  /**
   * Writes `data` at `path` (a tile or an entry bundle). An existing resource with the same bytes
   * is success (and is made durable like a new one). An existing resource with different bytes
   * is replaced — atomically, a reader sees the old bytes or the new ones — only when
   * `options.uncovered` is `true`; otherwise the call rejects with `ERR_AUDIT_STORE_INVARIANT` and
   * leaves it as it is. Resolves once the write is durable (or {@link TileStorage.sync} will make
   * it so). A storage that ignores `options` (never replaces) stays correct but cannot continue
   * after a crash that left such files.
   */
  putImmutable(path: string, data: Uint8Array, options?: TilePutOptions): Promise<void>;

  /**
   * Optional: makes every `putImmutable` so far durable (a directory fsyncs its folders). Called
   * after each batch of tiles and before the checkpoint naming them.
   */
  sync?(): Promise<void>;

  /**
   * Replaces `checkpoint` atomically (a reader sees the old note or the new one, never a mix),
   * durable on resolve. The writer calls it only after every tile the note covers is durable.
   */
  putCheckpoint(note: Uint8Array): Promise<void>;
}
