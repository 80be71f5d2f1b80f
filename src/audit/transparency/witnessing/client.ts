/**
 * The tlog-witness client: submits a checkpoint to each configured witness with `add-checkpoint`,
 * learns a witness's size from a 409 and resubmits with a consistency proof from that size,
 * retries transient failures, verifies every returned cosignature with the witness's key (unknown
 * or failing lines are dropped, never trusted), and adds the verified lines to the note.
 *
 * No node-only import (uses the global `fetch` unless one is injected).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { parseNote } from "../note.js";
import type { CosignatureVerifier } from "../witness.js";
import { formatAddCheckpoint, TLOG_SIZE_CONTENT_TYPE } from "./protocol.js";

/** One witness to ask: its submission prefix URL and its cosignature verifier. */
export interface WitnessEndpoint {
  readonly url: string;
  readonly verifier: CosignatureVerifier;
}

/** Per-witness outcome of {@link collectCosignatures}. */
export type WitnessOutcome =
  | { readonly url: string; readonly ok: true; readonly size: number }
  | {
      readonly url: string;
      readonly ok: false;
      readonly status: number | "network" | "bad-cosignature";
    };

/** Options of {@link collectCosignatures}. */
export interface CollectOptions {
  readonly witnesses: readonly WitnessEndpoint[];
  /** The log-signed checkpoint note. */
  readonly note: string;
  /** Consistency proof from `oldSize` to the checkpoint's size (empty for 0). */
  readonly proofFrom: (oldSize: number) => Promise<readonly Uint8Array[]>;
  /** Last size each witness is believed to have cosigned (by URL); updated in place. Default 0. */
  readonly knownSizes?: Map<string, number>;
  /** Attempts per witness for transient failures (network, 5xx) and 409 resubmits (default 3). */
  readonly attempts?: number;
  readonly fetch?: typeof fetch;
  /** Backoff between attempts in ms (default 100·attempt). */
  readonly backoffMs?: (attempt: number) => number;
}

/**
 * Submits a checkpoint to every witness and returns the note with the verified cosignatures,
 * plus what happened at each witness. The caller applies its quorum.
 *
 * @example
 * ```ts
 * const { note, outcomes } = await collectCosignatures({ witnesses, note: signed, proofFrom });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a note without a checkpoint.
 */
export async function collectCosignatures(
  options: CollectOptions,
): Promise<{ note: string; outcomes: WitnessOutcome[] }> {
  const { text } = parseNote(options.note);
  const doFetch = options.fetch ?? fetch;
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoff = options.backoffMs ?? ((a: number) => 100 * a);
  const known = options.knownSizes ?? new Map<string, number>();
  const size = Number(text.split("\n")[1]);
  if (!Number.isSafeInteger(size))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "note is not a checkpoint");
  const results = await Promise.all(
    options.witnesses.map(async (w): Promise<[WitnessOutcome, string]> => {
      let oldSize = known.get(w.url) ?? 0;
      let last: number | "network" = "network";
      for (let attempt = 1; attempt <= attempts; attempt++) {
        let res: Response;
        try {
          const proof = oldSize === 0 || oldSize >= size ? [] : await options.proofFrom(oldSize);
          res = await doFetch(`${w.url.replace(/\/$/, "")}/add-checkpoint`, {
            method: "POST",
            body: formatAddCheckpoint({ oldSize, proof: [...proof], note: options.note }),
            headers: { "content-type": "text/plain; charset=utf-8" },
            redirect: "error",
          });
        } catch {
          last = "network";
          await sleep(backoff(attempt));
          continue;
        }
        const body = await res.text();
        if (res.status === 200) {
          const lines = verifiedLines(body, text, w.verifier);
          if (lines === "") return [{ url: w.url, ok: false, status: "bad-cosignature" }, ""];
          known.set(w.url, size);
          return [{ url: w.url, ok: true, size }, lines];
        }
        last = res.status;
        if (
          res.status === 409 &&
          (res.headers.get("content-type") ?? "").startsWith(TLOG_SIZE_CONTENT_TYPE)
        ) {
          const m = /^(0|[1-9][0-9]{0,15})\n$/.exec(body);
          const theirs = m ? Number(m[1]) : Number.NaN;
          /* Precondition: a witness claiming a size larger than ours, or the same size again, is not retried. */
          if (!Number.isSafeInteger(theirs) || theirs > size || theirs === oldSize) break;
          oldSize = theirs;
          known.set(w.url, theirs);
          continue;
        }
        if (res.status >= 500) {
          await sleep(backoff(attempt));
          continue;
        }
        break; // 400, 403, 404, 413, 422: retrying will not help
      }
      return [{ url: w.url, ok: false, status: last }, ""];
    }),
  );
  let note = options.note;
  for (const [, lines] of results) note += lines;
  return { note, outcomes: results.map(([o]) => o) };
}

const SIG_LINE = /^— (\S+) ([A-Za-z0-9+/]+=*)$/;

function verifiedLines(body: string, text: string, verifier: CosignatureVerifier): string {
  let out = "";
  for (const line of body.split("\n")) {
    const m = SIG_LINE.exec(line);
    if (!m || m[1] !== verifier.name) continue;
    const raw = Uint8Array.from(atob(m[2] as string), (c) => c.charCodeAt(0));
    if (raw.length < 4) continue;
    const keyId =
      ((raw[0] as number) << 24) |
      ((raw[1] as number) << 16) |
      ((raw[2] as number) << 8) |
      (raw[3] as number);
    if (keyId >>> 0 !== verifier.keyId >>> 0) continue;
    if (verifier.timestampOf(text, raw.subarray(4)) === undefined) continue;
    out += `${line}\n`;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
