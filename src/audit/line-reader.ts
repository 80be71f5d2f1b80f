/**
 * Splits a byte stream into UTF-8 lines for the importers: bounded line length, strict UTF-8,
 * LF-only line ends. Node streams or any async iterable of byte chunks.
 */
import { KeywardenError } from "../errors.js";

/** Default cap on one line (or CSV record): 1 MiB. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** One line of input, without its `\n`. */
export interface InputLine {
  readonly text: string;
  /** 1-based line number. */
  readonly line: number;
}

/** Throws the typed error for bad input at `line`. */
export function malformedInput(line: number, why: string): never {
  throw new KeywardenError("ERR_AUDIT_MALFORMED_INPUT", `line ${line}: ${why}`, {
    details: { line },
  });
}

/**
 * Yields the lines of `chunks`. A final line without `\n` is yielded too (a complete export ends
 * with `\n`, but truncation is the verifier's finding, not a parse error).
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line on invalid UTF-8, a CR,
 * an empty line or a line longer than `maxLineBytes`.
 */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<InputLine> {
  for await (const batch of readLineBatches(chunks, maxLineBytes)) yield* batch;
}

/**
 * {@link readLines}, one array per input chunk: the lines that chunk completes (possibly none).
 * Same lines, same errors; an error is thrown after the batch of lines before it.
 */
export async function* readLineBatches(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<InputLine[]> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let line = 0;
  const emit = (bytes: Uint8Array): InputLine => {
    line++;
    if (bytes.length > maxLineBytes) malformedInput(line, `longer than ${maxLineBytes} bytes`);
    if (bytes.length === 0) malformedInput(line, "empty line");
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return malformedInput(line, "invalid UTF-8");
    }
    if (text.includes("\r")) malformedInput(line, "carriage return in line");
    return { text, line };
  };
  for await (const raw of chunks) {
    const chunk = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
    const batch: InputLine[] = [];
    let start = 0;
    try {
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl === -1) break;
        let bytes = chunk.subarray(start, nl);
        if (pending.length > 0) {
          pending.push(bytes);
          bytes = concat(pending, pendingBytes + bytes.length);
          pending = [];
          pendingBytes = 0;
        }
        batch.push(emit(bytes));
        start = nl + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        pendingBytes += rest.length;
        if (pendingBytes > maxLineBytes)
          malformedInput(line + 1, `longer than ${maxLineBytes} bytes`);
        pending.push(rest.slice());
      }
    } catch (err) {
      if (batch.length > 0) yield batch;
      throw err;
    }
    if (batch.length > 0) yield batch;
  }
  if (pendingBytes > 0) yield [emit(concat(pending, pendingBytes))];
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
