import { fc } from "@fast-check/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Node, verifyExport } from "../../../src/audit/index.js";
import { exportText, sampleLog } from "../helpers.js";

const verify = (
  bytes: Uint8Array | string,
  format: "jsonl" | "csv",
  expected?: { size: number; headHash: string | null },
) =>
  verifyExport([typeof bytes === "string" ? Buffer.from(bytes) : bytes], {
    format,
    sha256: sha256Node,
    expected,
  });

describe.each(["jsonl", "csv"] as const)(
  "every single mutation of a valid %s export is detected",
  (format) => {
    let text = "";
    let bytes: Buffer;
    let lines: string[] = [];
    let other: string[] = [];
    let head: { size: number; headHash: string | null };

    beforeAll(async () => {
      const { log, chainId } = await sampleLog(8, "alice", [2, 5]);
      text = await exportText(log, chainId, format);
      bytes = Buffer.from(text);
      lines = text.split("\n").slice(0, -1);
      const b = await sampleLog(3, "bob");
      other = (await exportText(b.log, b.chainId, format)).split("\n").slice(0, -1);
      head = await log.head(chainId);
    });

    const join = (ls: string[]) => `${ls.join("\n")}\n`;
    const first = format === "csv" ? 2 : 1; // lines before the first entry (header, manifest)

    it("the unmodified export verifies (with and without the expected head)", async () => {
      expect(await verify(text, format)).toMatchObject({ ok: true, size: 8, redacted: 2 });
      expect(await verify(text, format, head)).toMatchObject({ ok: true, size: 8 });
    });

    it("bit flip anywhere", async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 7 }), async (at, bit) => {
          const mutated = Buffer.from(bytes);
          mutated[at] = (mutated[at] as number) ^ (1 << bit);
          const r = await verify(mutated, format);
          expect(r.ok).toBe(false);
        }),
        { numRuns: 400 },
      );
    });

    it("a bit flip in every byte of one entry line, exhaustively", async () => {
      const lineStart = Buffer.byteLength(join(lines.slice(0, first + 3)));
      const lineLen = Buffer.byteLength(lines[first + 3] as string);
      for (let at = lineStart; at < lineStart + lineLen; at++) {
        const mutated = Buffer.from(bytes);
        mutated[at] = (mutated[at] as number) ^ 0x01;
        const r = await verify(mutated, format);
        if (r.ok) throw new Error(`undetected flip at byte ${at - lineStart} of the line`);
      }
    });

    it("deletion of any line", async () => {
      for (let i = 0; i < lines.length; i++) {
        const r = await verify(join(lines.filter((_, j) => j !== i)), format);
        expect(r.ok, `deleting line ${i + 1}`).toBe(false);
      }
    });

    it("insertion of any line (own or another chain's) anywhere", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: lines.length }),
          fc.nat({ max: lines.length + other.length - 1 }),
          async (pos, pick) => {
            const extra = (
              pick < lines.length ? lines[pick] : other[pick - lines.length]
            ) as string;
            const r = await verify(
              join([...lines.slice(0, pos), extra, ...lines.slice(pos)]),
              format,
            );
            expect(r.ok).toBe(false);
          },
        ),
        { numRuns: 200 },
      );
    });

    it("swap of any two lines", async () => {
      for (let i = 0; i < lines.length; i++)
        for (let j = i + 1; j < lines.length; j++) {
          const ls = [...lines];
          [ls[i], ls[j]] = [ls[j] as string, ls[i] as string];
          expect((await verify(join(ls), format)).ok, `swapping lines ${i + 1} and ${j + 1}`).toBe(
            false,
          );
        }
    });

    it("truncation at any byte", async () => {
      for (let cut = 0; cut < bytes.length; cut += 7) {
        const r = await verify(bytes.subarray(0, cut), format);
        expect(r.ok, `cut at ${cut}`).toBe(false);
      }
    });

    it("truncation with a rewritten manifest is caught by the known head", async () => {
      const { log, chainId } = await sampleLog(8, "alice");
      const h = await log.head(chainId);
      // A consistent shorter export (a real export of the first 5 entries) passes on its own…
      const { log: shortLog, chainId: c2 } = await sampleLog(5, "alice");
      const short = await exportText(shortLog, c2, format);
      expect((await verify(short, format)).ok).toBe(true);
      // …but not against the head the user holds.
      const r = await verify(short, format, h);
      expect(r).toMatchObject({ ok: false, seq: 5, reason: "truncated" });
    });
  },
);
