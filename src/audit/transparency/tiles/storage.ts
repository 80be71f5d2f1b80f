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

/** A place to publish a C2SP tlog-tiles log. */
export interface TileStorage {
  /** Reads resources back (`checkpoint`, tiles, entry bundles); `undefined` when absent. */
  readonly fetcher: TileFetcher;

  /**
   * Writes `data` at `path` (a tile or an entry bundle) unless something is already there: an
   * existing resource with the same bytes is success, one with different bytes rejects with
   * `ERR_AUDIT_STORE_INVARIANT` and is left as it is. Never replaces a resource. Resolves once the
   * write is durable (or {@link TileStorage.sync} will make it so).
   */
  putImmutable(path: string, data: Uint8Array): Promise<void>;

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
