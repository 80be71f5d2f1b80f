/**
 * Splits a byte stream into UTF-8 lines for the importers: bounded line length, strict UTF-8,
 * LF-only line ends. Node streams or any async iterable of byte chunks.
 */
import { KeywardenError } from "../../errors.js";

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
 * Yields the lines of `chunks`. Every line, the last included, must end with `\n` (format §6):
 * a final line without it is an error naming that line, so one log has one byte string.
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line on invalid UTF-8, a CR,
 * an empty line, a line longer than `maxLineBytes` or a last line without its `\n`.
 */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<InputLine> {
  for await (const batch of readLineBatches(chunks, maxLineBytes)) yield* batch;
}

/**
 * A consumer's offer to take a whole line as bytes, `bytes[start, end)` without its `\n`, before
 * it is decoded: true when the consumer has fully dealt with it (the line is then counted and not
 * yielded). It must only take lines that are valid UTF-8, hold no CR and are not empty.
 */
export type TakeLineBytes = (bytes: Uint8Array, start: number, end: number) => boolean;

/**
 * {@link readLines}, one array per input chunk: the lines that chunk completes (possibly none).
 * Same lines, same errors; an error is thrown after the batch of lines before it.
 *
 * With `take`, each whole line of at most `maxLineBytes` bytes is first offered to it, in order;
 * a line it does not take is yielded (decoded and checked as usual) in a batch of its own before
 * the next line is offered, so the consumer has seen every earlier line when `take` is called.
 */
export async function* readLineBatches(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  maxLineBytes = MAX_LINE_BYTES,
  take?: TakeLineBytes,
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
  /**
   * Adds the lines of `region` (whole lines, each ending in `\n`) to `batch`. One decode for the
   * region; when it holds invalid UTF-8 or a CR, the lines are taken one by one instead, which
   * names the first bad line exactly as `emit` does.
   */
  const addLines = (region: Uint8Array, batch: InputLine[]): number => {
    if (take !== undefined) {
      // Lines are offered while the batch is empty; after a line that is not taken, the caller
      // yields the batch before the next line is offered.
      let from = 0;
      for (let nl = region.indexOf(10); nl !== -1; nl = region.indexOf(10, from)) {
        if (batch.length > 0) return from;
        if (nl - from <= maxLineBytes && take(region, from, nl)) line++;
        else batch.push(emit(region.subarray(from, nl)));
        from = nl + 1;
      }
      return from;
    }
    let text: string | undefined;
    try {
      text = decoder.decode(region);
    } catch {
      text = undefined;
    }
    let start = 0;
    if (text === undefined || text.includes("\r")) {
      for (let nl = region.indexOf(10); nl !== -1; nl = region.indexOf(10, start)) {
        batch.push(emit(region.subarray(start, nl)));
        start = nl + 1;
      }
      return region.length;
    }
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      line++;
      const units = nl - start;
      // UTF-8 takes 1–3 bytes per UTF-16 unit: count exactly only when the bound is in doubt.
      if (
        units > maxLineBytes ||
        (units * 3 > maxLineBytes && utf8Length(text, start, nl) > maxLineBytes)
      )
        malformedInput(line, `longer than ${maxLineBytes} bytes`);
      if (units === 0) malformedInput(line, "empty line");
      batch.push({ text: text.slice(start, nl), line });
      start = nl + 1;
    }
    return region.length;
  };
  for await (const raw of chunks) {
    const chunk = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
    let batch: InputLine[] = [];
    try {
      let from = 0;
      if (pending.length > 0) {
        const first = chunk.indexOf(10);
        if (first !== -1) {
          pending.push(chunk.subarray(0, first + 1));
          const region = concat(pending, pendingBytes + first + 1);
          pending = [];
          pendingBytes = 0;
          for (let rest = region; rest.length > 0; ) {
            rest = rest.subarray(addLines(rest, batch));
            if (rest.length > 0 && batch.length > 0) {
              yield batch;
              batch = [];
            }
          }
          from = first + 1;
        }
      }
      const last = chunk.lastIndexOf(10);
      for (let rest = chunk.subarray(from, Math.max(from, last + 1)); rest.length > 0; ) {
        rest = rest.subarray(addLines(rest, batch));
        if (rest.length > 0 && batch.length > 0) {
          yield batch;
          batch = [];
        }
      }
      const restAt = Math.max(from, last + 1);
      if (restAt < chunk.length) {
        pendingBytes += chunk.length - restAt;
        if (pendingBytes > maxLineBytes)
          malformedInput(line + 1, `longer than ${maxLineBytes} bytes`);
        pending.push(chunk.slice(restAt));
      }
    } catch (err) {
      if (batch.length > 0) yield batch;
      throw err;
    }
    if (batch.length > 0) yield batch;
  }
  if (pendingBytes > 0) {
    // The line is checked as any other first (a CR or bad UTF-8 is named as such), then refused.
    const last = emit(concat(pending, pendingBytes));
    malformedInput(last.line, "last line does not end with LF");
  }
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

/** UTF-8 length of `text[start, end)` (well-formed: it came from a fatal decoder). */
function utf8Length(text: string, start: number, end: number): number {
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // with its low surrogate
      i++;
    } else bytes += 3;
  }
  return bytes;
}
