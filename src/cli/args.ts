/**
 * Small argument and file helpers shared by the `keywarden audit …` commands: usage errors that
 * the dispatcher prints with the command's usage, paths relative to the caller's cwd, output to a
 * file or stdout, integer options and consistency-proof files.
 */
import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { fromBase64 } from "../audit/primitives/portable.js";
import { KeywardenError } from "../errors.js";
import type { CliIo } from "./io.js";

/** Throws an error the dispatcher reports as a usage error (exit 2, usage text). */
export function usageError(message: string): never {
  throw Object.assign(new Error(message), { code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" });
}

/** `path` resolved against the command's working directory. */
export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : join(io.cwd, path);
}

/** Writes `text` to `out` (mode 0644) or, without `out`, to stdout. */
export async function writeOutput(io: CliIo, out: string | undefined, text: string): Promise<void> {
  if (out) await writeFile(resolvePath(io, out), text, { mode: 0o644 });
  else io.stdout.write(text);
}

/** A non-negative integer option (`what` names it in the usage error). */
export function parseCount(text: string | undefined, what: string): number {
  if (
    text === undefined ||
    !/^(0|[1-9][0-9]{0,15})$/.test(text) ||
    !Number.isSafeInteger(Number(text))
  )
    usageError(`${what} must be a non-negative integer`);
  return Number(text);
}

/**
 * Reads a consistency-proof file (one base64 hash per line, as `audit prove --from` prints).
 *
 * @throws {KeywardenError} `ERR_AUDIT_PROOF_INVALID` when a line is not a 32-byte hash.
 */
export async function readProofFile(io: CliIo, path: string): Promise<Uint8Array[]> {
  const text = await readFile(resolvePath(io, path), "utf8");
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.map((l) => {
    const h = fromBase64(l.trim());
    if (h?.length !== 32)
      throw new KeywardenError("ERR_AUDIT_PROOF_INVALID", "proof file is malformed");
    return h;
  });
}
