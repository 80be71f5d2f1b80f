/**
 * Where signed checkpoints go: a file per chain, an HTTP POST (with retries and backoff), or a host
 * callback. Sinks are called by the {@link CheckpointPublisher} off the append path, so a slow or
 * failing sink never blocks or loses an append.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename } from "node:fs/promises";
import { join } from "node:path";
import { KeywardenError } from "../../errors.js";

/** A checkpoint handed to sinks. */
export interface PublishedCheckpoint {
  readonly chainId: string;
  readonly origin: string;
  readonly size: number;
  /** The signed note, verbatim. */
  readonly note: string;
}

/** A destination for checkpoints. `publish` rejects when delivery failed (the publisher retries later). */
export interface CheckpointSink {
  readonly name: string;
  publish(checkpoint: PublishedCheckpoint): Promise<void>;
}

/**
 * Writes each chain's latest checkpoint to `<dir>/<encodeURIComponent(chainId)>.checkpoint`
 * atomically (temporary file, fsync, rename).
 *
 * @example
 * ```ts
 * const sink = fileCheckpointSink("/var/lib/keywarden/checkpoints");
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` from `publish` on an I/O failure.
 */
export function fileCheckpointSink(dir: string): CheckpointSink {
  return {
    name: `file:${dir}`,
    async publish(cp) {
      try {
        await mkdir(dir, { recursive: true });
        const target = join(dir, `${encodeURIComponent(cp.chainId)}.checkpoint`);
        const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
        const h = await open(tmp, "wx", 0o644);
        try {
          await h.writeFile(cp.note);
          await h.sync();
        } finally {
          await h.close();
        }
        await rename(tmp, target);
      } catch (cause) {
        throw new KeywardenError(
          "ERR_AUDIT_STORE_UNAVAILABLE",
          "checkpoint file could not be written",
          { cause },
        );
      }
    },
  };
}

/** Options of {@link httpCheckpointSink}. */
export interface HttpSinkOptions {
  /** Attempts per publish (default 4). */
  readonly attempts?: number;
  /** First backoff delay in ms, doubled each retry, with jitter (default 250). */
  readonly backoffMs?: number;
  /** Per-request timeout in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Extra request headers (e.g. an authorization token for the receiving service). */
  readonly headers?: Readonly<Record<string, string>>;
}

function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * POSTs each checkpoint note (`text/plain; charset=utf-8`, headers `Keywarden-Chain` and
 * `Keywarden-Size`) to `url`. Network errors, timeouts, 408/425/429 and 5xx are retried with
 * exponential backoff; other statuses fail at once. Redirects are not followed.
 *
 * @example
 * ```ts
 * const sink = httpCheckpointSink("https://transparency.example.com/checkpoints", { attempts: 5 });
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` from `publish` once attempts are exhausted.
 */
export function httpCheckpointSink(url: string, options: HttpSinkOptions = {}): CheckpointSink {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "checkpoint sink URL must be http(s)");
  }
  const attempts = options.attempts ?? 4;
  const backoff = options.backoffMs ?? 250;
  const timeout = options.timeoutMs ?? 10_000;
  return {
    name: `http:${parsed.origin}${parsed.pathname}`,
    async publish(cp) {
      let lastStatus: number | null = null;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          const res = await fetch(parsed, {
            method: "POST",
            body: cp.note,
            redirect: "error",
            signal: AbortSignal.timeout(timeout),
            headers: {
              ...options.headers,
              "content-type": "text/plain; charset=utf-8",
              "keywarden-chain": cp.chainId,
              "keywarden-size": String(cp.size),
            },
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.ok) return;
          lastStatus = res.status;
          if (!retryable(res.status)) break;
        } catch {
          lastStatus = null;
        }
        if (attempt < attempts) {
          const delay = backoff * 2 ** (attempt - 1);
          await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
        }
      }
      throw new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "checkpoint could not be delivered", {
        details: { status: lastStatus },
      });
    },
  };
}

/**
 * Hands each checkpoint to a host function (e.g. to store it in a bucket with object lock).
 *
 * @example
 * ```ts
 * const sink = callbackCheckpointSink("s3", async (cp) => putObject(cp.origin, cp.note));
 * ```
 * @throws whatever `fn` throws, from `publish`.
 */
export function callbackCheckpointSink(
  name: string,
  fn: (checkpoint: PublishedCheckpoint) => Promise<void> | void,
): CheckpointSink {
  return { name, publish: async (cp) => fn(cp) };
}
