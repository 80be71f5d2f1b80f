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
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = from;
  let position = from;
  let lineNo = firstLine - 1;
  while (position < size) {
    const { bytesRead } = await fh.read(
      chunk,
      0,
      Math.min(chunk.length, size - position),
      position,
    );
    if (bytesRead === 0) break;
    const data =
      carry.length > 0
        ? Buffer.concat([carry, chunk.subarray(0, bytesRead)])
        : chunk.subarray(0, bytesRead);
    const base = carry.length > 0 ? carryOffset : position;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(10, start);
      if (nl === -1) break;
      lineNo++;
      let text: string;
      try {
        text = decoder.decode(data.subarray(start, nl));
      } catch {
        text = "\u0000invalid-utf8"; // reported as corrupt by the caller's parser
      }
      const pending = onLine({ text, offset: base + start, length: nl - start, line: lineNo });
      if (pending) await pending;
      start = nl + 1;
    }
    carry = Buffer.from(data.subarray(start));
    carryOffset = base + start;
    position += bytesRead;
  }
  return { complete: size - carry.length, size, lastLine: lineNo };
}
