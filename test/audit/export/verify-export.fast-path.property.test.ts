/**
 * `verifyExport` first offers each JSON Lines entry line to the verifier's fast path
 * (`acceptJsonlEntryLine`, which cuts the line and calls `acceptNextEntry`) and decodes the line
 * the full way only when that is not proven. The fast path may only accept: on exports mutated
 * anywhere (bytes, line text, whole lines reordered, repeated, dropped or taken from another
 * chain) and cut into chunks anywhere (inside lines and inside multi-byte UTF-8 characters), the
 * result must be exactly the full path's (`verifyExportFullPath`: same verdict, seq, reason,
 * message, line and manifest). On an intact export the fast path must actually be taken.
 */
import { fc } from "@fast-check/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { acceptNextEntryLine, ChainVerifier, entryHash } from "../../../src/audit/core/portable.js";
import {
  acceptJsonlEntryLine,
  type VerifyExportOptions,
  verifyExport,
  verifyExportFullPath,
} from "../../../src/audit/export/index.js";
import {
  AuditLog,
  createMemoryAuditStore,
  sha256Node,
  userChainId,
} from "../../../src/audit/index.js";
import { hostIdentity, runAs } from "../../../src/guard/index.js";
import { exportText } from "../helpers.js";

const encoder = new TextEncoder();

/** A chain whose payloads hold 2-, 3- and 4-byte UTF-8 characters, one payload erased. */
async function unicodeExport(user: string, count: number): Promise<string> {
  const log = new AuditLog({ store: createMemoryAuditStore() });
  const chainId = userChainId(user);
  await runAs(hostIdentity(user), async () => {
    for (let i = 0; i < count; i++)
      await log.appendEntry(chainId, {
        action: i % 3 === 0 ? "parameter.changed" : "order.placed",
        payload:
          i % 3 === 0
            ? { name: `é€😀 ${i}`, to: { note: 'ünïcødé \u2028 "q" ,;\\' } }
            : {
                exchange: "binance",
                symbol: "BTC/USDT",
                side: "buy",
                type: "limit",
                amount: `0.${i + 1}`,
                price: "64250.10",
              },
      });
  });
  await log.erasePayload(chainId, 4);
  return exportText(log, chainId, "jsonl");
}

/** `bytes` cut at the given positions (each taken modulo the length), in order. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

async function sameResult(chunks: Uint8Array[], options: VerifyExportOptions): Promise<void> {
  const full = await verifyExportFullPath(chunks, options);
  expect(await verifyExport(chunks, options)).toEqual(full);
}

describe("verifyExport's JSON Lines fast path", () => {
  let text = "";
  let foreign: string[] = [];
  let head = { size: 0, headHash: null as string | null };

  beforeAll(async () => {
    text = await unicodeExport("erin", 10);
    foreign = (await unicodeExport("mallory", 10)).split("\n");
    const last = JSON.parse(text.trimEnd().split("\n").at(-1) as string) as { hash: string };
    head = { size: 10, headHash: last.hash };
  });

  const options = (expected: boolean, maxLineBytes?: number): VerifyExportOptions => ({
    format: "jsonl",
    sha256: sha256Node,
    ...(expected ? { expected: head } : {}),
    ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
  });

  it("is taken on an intact export, once a head of each kind was accepted in full", () => {
    const lines = text.trimEnd().split("\n");
    const manifest = JSON.parse(lines[0] as string).manifest;
    const v = new ChainVerifier({
      sha256: sha256Node,
      chainId: manifest.chainId,
      maxEntries: manifest.size,
    });
    const fast = lines.slice(1).map((line) => {
      if (acceptJsonlEntryLine(v, line)) return true;
      const h = line.indexOf(',"hash":"');
      const body = line.slice('{"entry":'.length, h);
      const hash = line.slice(h + ',"hash":"'.length, h + ',"hash":"'.length + 64);
      const opening = line.slice(line.indexOf('","payload":', h) + '","payload":'.length, -1);
      const payload = opening === "null" ? null : opening;
      expect(v.push({ body, hash, payload })).toBeUndefined();
      return false;
    });
    // Two actions alternate; the first entry of each kind goes the full way.
    expect(fast).toEqual([false, false, true, true, true, true, true, true, true, true]);
    expect(v.finish()).toMatchObject({ ok: true, size: 10, redacted: 1 });
  });

  it("takes intact lines as bytes, undecoded, once a head of each kind was accepted in full", () => {
    const bytes = encoder.encode(text);
    const manifest = JSON.parse(text.slice(0, text.indexOf("\n"))).manifest;
    const v = new ChainVerifier({
      sha256: sha256Node,
      chainId: manifest.chainId,
      maxEntries: manifest.size,
    });
    const lines = text.trimEnd().split("\n").slice(1);
    const fast: boolean[] = [];
    let start = bytes.indexOf(10) + 1;
    for (const line of lines) {
      const end = bytes.indexOf(10, start);
      const taken = acceptNextEntryLine(v, bytes, start, end);
      fast.push(taken);
      start = end + 1;
      if (taken) continue;
      // The full way, as verifyExport would (these are the first entries of each kind).
      const h = line.indexOf(',"hash":"');
      const opening = line.slice(line.indexOf('","payload":', h) + '","payload":'.length, -1);
      expect(
        v.push({
          body: line.slice('{"entry":'.length, h),
          hash: line.slice(h + 9, h + 73),
          payload: opening === "null" ? null : opening,
        }),
      ).toBeUndefined();
    }
    expect(fast).toEqual([false, false, true, true, true, true, true, true, true, true]);
    expect(v.finish()).toMatchObject({ ok: true, size: 10, redacted: 1 });
  });

  it("gives the full path's result on an intact export cut inside every multi-byte character", async () => {
    const bytes = encoder.encode(text);
    let inside = 0;
    for (let i = 1; i < bytes.length; i++) {
      if (((bytes[i] as number) & 0xc0) !== 0x80) continue; // a continuation byte: cut before it
      inside++;
      await sameResult(cut(bytes, [i]), options(true));
    }
    expect(inside).toBeGreaterThan(20);
    expect((await verifyExport(cut(bytes, [7, 300, 301]), options(true))).ok).toBe(true);
  });

  const marker = fc.constantFrom(
    "",
    '{"entry":',
    '"payloadCommitment":"',
    '"prevHash":"',
    '"seq":',
    '"ts":"',
    '"v":',
    ',"hash":"',
    '","payload":',
    '"salt":"',
    '"value":',
    "😀",
    "é",
  );
  const insert = fc.oneof(
    fc.constantFrom("A", "f", "0", "9", '"', "\\", " ", "é", "😀", "\u2028", "}", "\n", "\r", ""),
    fc.string({ maxLength: 2 }),
  );
  const cuts = fc.array(fc.nat(), { maxLength: 6 });

  it("gives exactly the full path's result on mutated line text, cut anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        marker,
        fc.nat({ max: 40 }),
        insert,
        fc.boolean(),
        cuts,
        fc.boolean(),
        async (index, mark, offset, piece, keepLength, at, expected) => {
          const lines = text.split("\n");
          const value = lines[index] as string;
          const found = mark === "" ? 0 : value.indexOf(mark);
          const where = Math.min((found < 0 ? 0 : found + mark.length) + offset, value.length);
          lines[index] =
            value.slice(0, where) + piece + value.slice(where + (keepLength ? piece.length : 0));
          await sameResult(cut(encoder.encode(lines.join("\n")), at), options(expected));
        },
      ),
      { numRuns: 600 },
    );
  });

  it("gives exactly the full path's result on reordered, repeated, dropped and foreign lines", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -10, max: 10 }), { minLength: 1, maxLength: 14 }),
        cuts,
        fc.boolean(),
        fc.option(fc.integer({ min: 200, max: 600 })),
        async (order, at, expected, maxLineBytes) => {
          const lines = text.trimEnd().split("\n");
          // Line 0 is the manifest; negative picks are the other chain's lines.
          const picked = order.map((i) => (i < 0 ? foreign[-i] : lines[i]) as string);
          const bytes = encoder.encode(`${picked.join("\n")}\n`);
          await sameResult(cut(bytes, at), options(expected, maxLineBytes ?? undefined));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("gives the full path's result on timestamps on days 29–31 (the calendar check)", async () => {
    const lines = text.split("\n");
    for (const date of [
      "2026-02-28",
      "2026-02-29",
      "2024-02-29",
      "2100-02-29",
      "2000-02-29",
      "2026-02-30",
      "2026-04-30",
      "2026-04-31",
      "2026-12-31",
      "2026-13-01",
    ]) {
      const changed = [...lines];
      const line = changed[5] as string;
      const h = line.indexOf(',"hash":"');
      const body = line
        .slice('{"entry":'.length, h)
        .replace(/"ts":"\d{4}-\d{2}-\d{2}/, `"ts":"${date}`);
      changed[5] = `{"entry":${body},"hash":"${entryHash(body, sha256Node)}${line.slice(h + 73)}`;
      expect(changed[5]).not.toBe(line);
      await sameResult([encoder.encode(changed.join("\n"))], options(false));
    }
  });

  const ALPHABET = [0x0a, 0x0d, 0x22, 0x2c, 0x30, 0x3a, 0x5c, 0x61, 0x7d, 0x80, 0xc3, 0xf0, 0xff];
  it("gives exactly the full path's result on byte mutations, cut anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.nat(),
            byte: fc.constantFrom(...ALPHABET),
            op: fc.constantFrom("set", "insert", "delete"),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        cuts,
        fc.boolean(),
        async (ms, at, expected) => {
          const b = Array.from(encoder.encode(text));
          for (const m of ms) {
            const i = m.at % (b.length + 1);
            if (m.op === "set" && i < b.length) b[i] = m.byte;
            else if (m.op === "insert") b.splice(i, 0, m.byte);
            else if (m.op === "delete" && i < b.length) b.splice(i, 1);
          }
          await sameResult(cut(Uint8Array.from(b), at), options(expected));
        },
      ),
      { numRuns: 600 },
    );
  });
});
