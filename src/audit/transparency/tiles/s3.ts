/**
 * Publishing a C2SP tlog-tiles log to an S3-compatible bucket (AWS S3, MinIO, R2, …) through
 * `@aws-sdk/client-s3`, an optional peer loaded on first use only by this binding. Served to
 * readers by the bucket's own HTTP endpoint or a CDN in front of it (`httpTileFetcher`).
 *
 * Immutability: a tile or entry bundle is written with `If-None-Match: *` (S3 conditional writes:
 * the PUT fails with 412 Precondition Failed when the key exists), so an object is never
 * replaced by accident; on 412 the stored bytes are read. The same bytes are success. Different
 * bytes are `ERR_AUDIT_STORE_INVARIANT` when the key is covered by the published checkpoint; when
 * the writer says it lies beyond it (an orphan of a batch whose checkpoint was never published,
 * e.g. after a crash) the object is replaced with a plain PUT (atomic in S3). Where the service
 * does not support conditional writes, `conditionalWrites: false` checks with HEAD first (and
 * settles an existing key as above) — which leaves a race between two writers of the same log, so
 * run one writer per log. The checkpoint is a plain PUT, issued only after every tile it covers
 * was acknowledged.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { bytesEqual } from "../../primitives/index.js";
import type { TileFetcher } from "./reader.js";
import type { TileStorage } from "./storage.js";

type S3Sdk = typeof import("@aws-sdk/client-s3");

/** `@aws-sdk/client-s3`, loaded on first use so that importing this module never needs it. */
let sdk: S3Sdk | undefined;

async function loadS3Sdk(): Promise<S3Sdk> {
  try {
    sdk ??= await import("@aws-sdk/client-s3");
    return sdk;
  } catch (cause) {
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "publishing tiles to S3 needs the optional peer @aws-sdk/client-s3 (npm install it)",
      { cause },
    );
  }
}

/** The structural subset of an `S3Client` used here. */
export interface S3ClientLike {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's command types are generic over their output.
  send(command: any): Promise<any>;
}

/** Options of {@link s3TileStorage}. */
export interface S3TileStorageOptions {
  /** An `S3Client` (credentials, region and endpoint are the host's). */
  readonly client: S3ClientLike;
  readonly bucket: string;
  /** Key prefix of the log, e.g. `heads/` (default: the bucket root). Must end in `/` when set. */
  readonly prefix?: string;
  /**
   * `true` (default): tiles are written with `If-None-Match: *`. `false`, for services without
   * conditional writes: HEAD, then PUT when absent (one writer per log).
   */
  readonly conditionalWrites?: boolean;
  /** `Cache-Control` of tiles and bundles (default: one year, immutable). */
  readonly tileCacheControl?: string;
  /** `Cache-Control` of the checkpoint (default `no-cache`). */
  readonly checkpointCacheControl?: string;
}

const PREFIX = /^(?:(?!\.\.?\/)[A-Za-z0-9._-]+\/)*$/;

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(err) === 404;
}

async function bodyBytes(out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) {
  if (!out.Body) return new Uint8Array(0);
  return new Uint8Array(await out.Body.transformToByteArray());
}

/**
 * A {@link TileStorage} on an S3-compatible bucket.
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * import { s3TileStorage } from "keywarden/audit/tiles-s3";
 * const storage = await s3TileStorage({ client: new S3Client({}), bucket: "audit-example", prefix: "heads/" });
 * const heads = await HeadsLog.open({ storage, origin, signer, headsSecret });
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when `@aws-sdk/client-s3` is not installed;
 * `ERR_INVALID_ARGUMENT` for a bad bucket or prefix. Its methods reject with
 * `ERR_AUDIT_STORE_INVARIANT` when a stored tile differs, `ERR_AUDIT_STORE_UNAVAILABLE` on a
 * service error.
 */
export async function s3TileStorage(options: S3TileStorageOptions): Promise<TileStorage> {
  const s3 = await loadS3Sdk();
  const { client, bucket } = options;
  const prefix = options.prefix ?? "";
  if (typeof bucket !== "string" || bucket === "" || !PREFIX.test(prefix)) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid bucket or prefix");
  }
  const conditional = options.conditionalWrites ?? true;
  const tileCache = options.tileCacheControl ?? "public, max-age=31536000, immutable";
  const key = (path: string) => `${prefix}${path}`;
  const unavailable = (cause: unknown) =>
    new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "the tile bucket could not be reached", {
      cause,
    });

  const get = async (path: string): Promise<Uint8Array | undefined> => {
    try {
      return await bodyBytes(
        await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key(path) })),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw unavailable(err);
    }
  };
  const fetcher: TileFetcher = { fetch: get };
  /** The key exists: the same bytes are success; different ones are replaced only when uncovered. */
  const settleExisting = async (path: string, data: Uint8Array, uncovered: boolean) => {
    const stored = await get(path);
    if (stored !== undefined && bytesEqual(stored, data)) return;
    /* Precondition: a tile covered by the published checkpoint is never replaced in the bucket; different bytes are an invariant failure. */
    if (!uncovered) {
      throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "published tile differs from the log");
    }
    try {
      await put(path, data, { CacheControl: tileCache });
    } catch (err) {
      throw unavailable(err);
    }
  };
  const put = (path: string, data: Uint8Array, extra: Record<string, string>) =>
    client.send(
      new s3.PutObjectCommand({
        Bucket: bucket,
        Key: key(path),
        Body: data,
        ContentType:
          path === "checkpoint" ? "text/plain; charset=utf-8" : "application/octet-stream",
        ...extra,
      }),
    );

  return {
    fetcher,
    async putImmutable(path, data, options) {
      const uncovered = options?.uncovered === true;
      if (!conditional) {
        let exists = true;
        try {
          await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: key(path) }));
        } catch (err) {
          if (!isNotFound(err)) throw unavailable(err);
          exists = false;
        }
        if (exists) return settleExisting(path, data, uncovered);
        try {
          await put(path, data, { CacheControl: tileCache });
        } catch (err) {
          throw unavailable(err);
        }
        return;
      }
      for (let attempt = 0; ; attempt++) {
        try {
          await put(path, data, { CacheControl: tileCache, IfNoneMatch: "*" });
          return;
        } catch (err) {
          const status = statusOf(err);
          if (status === 412) return settleExisting(path, data, uncovered);
          // 409 ConditionalRequestConflict: a concurrent write to the key; retry it once or twice.
          if (status === 409 && attempt < 3) continue;
          throw unavailable(err);
        }
      }
    },
    async putCheckpoint(note) {
      try {
        await put("checkpoint", note, {
          CacheControl: options.checkpointCacheControl ?? "no-cache",
        });
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
