/**
 * C2SP tlog-witness (`c2sp.org/tlog-witness`) `add-checkpoint` request bodies, and the witness's
 * decision for one request as data (status code, content type, body), independent of any HTTP
 * server. Status codes per the spec: 400 malformed or old size above the checkpoint size, 403 no
 * trusted log signature, 404 unknown origin, 409 old size is not the witness's latest size (body:
 * that size and a newline, `text/x.tlog.size`) or same size with another root, 422 consistency
 * proof does not verify, 200 cosignature line(s).
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import {
  assertHash,
  assertIndex,
  bytesEqual,
  fromBase64,
  toBase64,
} from "../../primitives/portable.js";
import { parseCheckpoint } from "../checkpoint.js";
import { verifyConsistency } from "../merkle.js";
import { type NoteVerifier, parseNote } from "../note.js";
import { type Cosigner, verifyCosignedCheckpoint, type WitnessStateStore } from "../witness.js";

/** Most consistency proof lines a request may carry (spec: clients MUST NOT send more than 63). */
export const MAX_PROOF_LINES = 63;
/** Default request body limit of a witness, in bytes. */
export const MAX_ADD_CHECKPOINT_BYTES = 64 * 1024;
/** Content type of a 409 response body. */
export const TLOG_SIZE_CONTENT_TYPE = "text/x.tlog.size";

/** A parsed add-checkpoint request. */
export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The checkpoint note, verbatim (may carry several signatures). */
  readonly note: string;
}

/**
 * Serialises an add-checkpoint request body.
 *
 * @example
 * ```ts
 * const body = formatAddCheckpoint({ oldSize: 10, proof, note });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a bad size, too many or malformed hashes, or a note not ending in a newline.
 */
export function formatAddCheckpoint(req: AddCheckpointRequest): string {
  assertIndex(req.oldSize, "old size");
  if (req.proof.length > MAX_PROOF_LINES)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "too many proof lines");
  if (!req.note.endsWith("\n"))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "note must end in a newline");
  let out = `old ${req.oldSize}\n`;
  for (const h of req.proof) out += `${toBase64(assertHash(h, "proof hash"))}\n`;
  return `${out}\n${req.note}`;
}

/**
 * Parses an add-checkpoint request body (structure only).
 *
 * @example
 * ```ts
 * const { oldSize, proof, note } = parseAddCheckpoint(body);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` (fixed message) when malformed.
 */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const bad = () =>
    new KeywardenError("ERR_AUDIT_MALFORMED_INPUT", "add-checkpoint request is malformed");
  const split = body.indexOf("\n\n");
  if (split < 0) throw bad();
  const lines = body.slice(0, split).split("\n");
  const m = /^old (0|[1-9][0-9]{0,15})$/.exec(lines[0] ?? "");
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw bad();
  if (lines.length - 1 > MAX_PROOF_LINES) throw bad();
  const proof: Uint8Array[] = [];
  for (const line of lines.slice(1)) {
    const h = fromBase64(line);
    if (h?.length !== 32 || toBase64(h) !== line) throw bad();
    proof.push(h);
  }
  const note = body.slice(split + 2);
  if (note.length === 0 || !note.endsWith("\n")) throw bad();
  return { oldSize: Number(m[1]), proof, note };
}

/** A witness's answer to one request. */
export interface WitnessResponse {
  readonly status: 200 | 400 | 403 | 404 | 409 | 422;
  readonly contentType: string;
  readonly body: string;
}

const text = (status: WitnessResponse["status"], body: string): WitnessResponse => ({
  status,
  contentType: "text/plain; charset=utf-8",
  body,
});
const conflict = (size: number): WitnessResponse => ({
  status: 409,
  contentType: TLOG_SIZE_CONTENT_TYPE,
  body: `${size}\n`,
});

/**
 * Decides one add-checkpoint request: the spec's checks, then an atomic compare-and-set of the
 * origin's record before cosigning (so two racing requests can never roll the record back).
 *
 * @example
 * ```ts
 * const res = await handleAddCheckpoint(body, { logs: { [origin]: [logKey] }, state, cosigner });
 * reply(res.status, res.contentType, res.body);
 * ```
 * @throws {KeywardenError} only when the state store or cosigner fails.
 */
export async function handleAddCheckpoint(
  body: string,
  options: {
    readonly logs: Readonly<Record<string, readonly NoteVerifier[]>>;
    readonly state: WitnessStateStore;
    readonly cosigner: Cosigner;
    readonly now?: () => number;
  },
): Promise<WitnessResponse> {
  let req: AddCheckpointRequest;
  let origin: string;
  try {
    req = parseAddCheckpoint(body);
    origin = parseCheckpoint(parseNote(req.note).text).origin;
  } catch {
    return text(400, "malformed request\n");
  }
  const keys = Object.hasOwn(options.logs, origin) ? options.logs[origin] : undefined;
  if (keys === undefined || keys.length === 0) return text(404, "unknown log\n");
  let verified: ReturnType<typeof verifyCosignedCheckpoint>;
  try {
    verified = verifyCosignedCheckpoint(req.note, { logKeys: keys, origin });
  } catch {
    return text(403, "no valid log signature\n");
  }
  const cp = verified.checkpoint;
  if (req.oldSize > cp.size) return text(400, "old size exceeds checkpoint size\n");
  const prev = await options.state.get(origin);
  const prevSize = prev?.size ?? 0;
  /* Precondition: an old size other than the witness's latest cosigned size gets 409 with that size. */
  if (req.oldSize !== prevSize) return conflict(prevSize);
  if (req.oldSize === cp.size) {
    /* Precondition: the same size with a different root is a fork and is never cosigned. */
    if (req.proof.length !== 0) return text(422, "proof must be empty\n");
    if (prev !== undefined && !bytesEqual(prev.rootHash, cp.rootHash)) return conflict(prevSize);
  } else if (req.oldSize === 0) {
    if (req.proof.length !== 0) return text(422, "proof must be empty from size 0\n");
  } else if (
    !verifyConsistency(
      req.oldSize,
      cp.size,
      req.proof,
      (prev as { rootHash: Uint8Array }).rootHash,
      cp.rootHash,
    )
  ) {
    return text(422, "consistency proof does not verify\n");
  }
  /* Precondition: the record is updated atomically with the old-size check, before cosigning. */
  const stored = await options.state.compareAndSet(origin, prev, {
    size: cp.size,
    rootHash: cp.rootHash,
  });
  if (!stored) return conflict((await options.state.get(origin))?.size ?? 0);
  const now = options.now?.() ?? Math.floor(Date.now() / 1000);
  return text(200, await options.cosigner.cosign(verified.text, now));
}
