/**
 * Scans an append-only JSONL file into complete lines with byte offsets, detecting a torn final
 * line (a crash mid-append). Node only.
 */
import type { FileHandle } from "node:fs/promises";

/** A complete line: its text (without `\n`), byte offset and byte length (without `\n`). */
export interface ScannedLine {
  readonly text: string;
  readonly offset: number;
  readonly length: number;
  /** 1-based. */
  readonly line: number;
}

/**
 * Calls `onLine` for every complete line of the file from byte `from` (numbering lines from
 * `firstLine`; an async `onLine` is awaited before the next line) and returns where the complete part ends (where a torn or still-being-written final
 * line, if any, begins) and the number of the last complete line.
 */
export async function scanLines(
  fh: FileHandle,
  onLine: (line: ScannedLine) => void | Promise<void>,
  from = 0,
  firstLine = 1,
): Promise<{ complete: number; size: number; lastLine: number }> {
  const { size } = await fh.stat();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  // One buffer, sized to what is new (a refresh usually finds a line or none), reused for every
  // read; the unfinished tail of one read moves to its front for the next.
  let buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(size - from, 0)));
  let kept = 0; // bytes of an unfinished line at the front of buf
  let keptOffset = from;
  let position = from;
  let lineNo = firstLine - 1;
  while (position < size) {
    if (kept === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2); // a line longer than the buffer
      buf.copy(bigger, 0, 0, kept);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(
      buf,
      kept,
      Math.min(buf.length - kept, size - position),
      position,
    );
    if (bytesRead === 0) break;
    const end = kept + bytesRead;
    const base = keptOffset;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1 || nl >= end) break;
      lineNo++;
      let text: string;
      try {
        text = decoder.decode(buf.subarray(start, nl));
      } catch {
        text = "\u0000invalid-utf8"; // reported as corrupt by the caller's parser
      }
      const pending = onLine({ text, offset: base + start, length: nl - start, line: lineNo });
      if (pending) await pending;
      start = nl + 1;
    }
    buf.copy(buf, 0, start, end);
    kept = end - start;
    keptOffset = base + start;
    position += bytesRead;
  }
  return { complete: size - kept, size, lastLine: lineNo };
}
