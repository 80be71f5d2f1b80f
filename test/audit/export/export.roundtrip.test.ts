import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import {
  createMemoryAuditStore,
  importExport,
  MAX_LINE_BYTES,
  neutralizeCell,
  readExport,
  sha256Node,
  verifyExport,
} from "../../../src/audit/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import { exportText, sampleLog } from "../helpers.js";

const verify = (input: Uint8Array | string, format: "jsonl" | "csv") =>
  verifyExport([typeof input === "string" ? Buffer.from(input) : input], {
    format,
    sha256: sha256Node,
  });

describe("export and import", () => {
  it.each(["jsonl", "csv"] as const)(
    "%s exports import back into an empty store and verify",
    async (format) => {
      const { log, chainId } = await sampleLog(20, "alice", [3]);
      const text = await exportText(log, chainId, format);
      const store = createMemoryAuditStore();
      const head = await importExport(store, [Buffer.from(text)], {
        format,
        sha256: sha256Node,
        batchSize: 7,
      });
      expect(head).toEqual({ chainId, ...(await log.head(chainId)) });
      const again = [];
      for await (const e of store.read(chainId, 0)) again.push(e);
      const orig = [];
      for await (const e of log.readEntries(chainId)) orig.push(e);
      expect(again).toEqual(orig);
      await expect(
        importExport(store, [Buffer.from(text)], { format, sha256: sha256Node }),
      ).rejects.toMatchObject({ code: "ERR_AUDIT_APPEND_CONFLICT" });
    },
  );

  it("an empty chain exports and verifies as size 0", async () => {
    const { log, chainId } = await sampleLog(0);
    for (const format of ["jsonl", "csv"] as const)
      expect(await verify(await exportText(log, chainId, format), format)).toMatchObject({
        ok: true,
        size: 0,
        headHash: null,
      });
  });

  it("JSON Lines: the manifest first, then one canonical line per entry", async () => {
    const { log, chainId } = await sampleLog(2);
    const lines = (await exportText(log, chainId, "jsonl")).split("\n");
    expect(lines[0]).toMatch(
      /^\{"manifest":\{"chainId":"user:alice","format":"keywarden.audit.export","headHash":"[0-9a-f]{64}","size":2,"v":1\}\}$/,
    );
    expect(lines[1]).toMatch(
      /^\{"entry":\{"action":"parameter.changed",.*\},"hash":"[0-9a-f]{64}","payload":\{"salt":"[0-9a-f]{64}","value":\{.*\}\}\}$/s,
    );
    expect(lines[3]).toBe("");
  });

  it("CSV: RFC 4180, header + manifest row + one row per entry, formula cells neutralized", async () => {
    const { log, chainId } = await sampleLog(3, "alice", [1]);
    const text = await exportText(log, chainId, "csv");
    const rows = parse(text) as string[][];
    expect(rows[0]).toEqual([
      "seq",
      "ts",
      "chain_id",
      "action",
      "actor_kind",
      "actor_user_id",
      "actor_id",
      "payload",
      "entry",
      "hash",
      "opening",
    ]);
    expect(rows[1]?.[0]).toBe("manifest");
    expect(rows).toHaveLength(5);
    // The payload of entry 0 starts with "{" (JSON), so the formula inside it is inert; its name cell is inside JSON.
    expect(rows[2]?.[7]?.startsWith("{")).toBe(true);
    expect(rows[3]?.[7]).toBe("[redacted]");
    expect(rows[3]?.[10]).toBe("");
  });

  it.each(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])(
    "neutralizes a leading formula character: %j",
    (cell) => {
      expect(neutralizeCell(cell)).toBe(`'${cell}`);
    },
  );

  it("leaves ordinary cells alone", () => {
    expect(neutralizeCell("order.placed")).toBe("order.placed");
    expect(neutralizeCell('{"a":1}')).toBe('{"a":1}');
  });

  it("the human-readable CSV columns say exactly what the verified entry says", async () => {
    const { log, chainId } = await sampleLog(3);
    const text = await exportText(log, chainId, "csv");
    const forged = text.replace(",order.placed,", ",order.canceled,");
    expect(forged).not.toBe(text);
    expect(await verify(forged, "csv")).toMatchObject({ ok: false, reason: "malformed", line: 4 });
  });
});

describe("bad input: typed errors naming the line, never a crash, never a pass", () => {
  const cases: Array<[string, (text: string) => string | Uint8Array, number]> = [
    ["garbage line", (t) => t.replace(/\n(?=\{"entry")/, "\nnot json\n"), 2],
    ["wrong types", (t) => t.replace('"seq":0', '"seq":"0"'), 2],
    [
      "array instead of object",
      (t) => {
        const ls = t.split("\n");
        ls[2] = "[1,2]";
        return ls.join("\n");
      },
      3,
    ],
    ["blank line", (t) => t.replace("\n", "\n\n"), 2],
    ["CRLF line ends", (t) => t.replaceAll("\n", "\r\n"), 1],
    [
      "invalid UTF-8",
      (t) => {
        const b = Buffer.from(t);
        const i = b.indexOf("\n") + 5;
        b[i] = 0xff;
        return b;
      },
      2,
    ],
    [
      "wrong chain id",
      (t) => {
        const ls = t.split("\n");
        ls[2] = (ls[2] as string).replaceAll("user:alice", "user:mallory");
        return ls.join("\n");
      },
      3,
    ],
  ];
  it.each(cases)("%s", async (_name, mutate, line) => {
    const { log, chainId } = await sampleLog(3);
    const r = await verify(mutate(await exportText(log, chainId, "jsonl")), "jsonl");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.line).toBe(line);
  });

  it("an oversized line is refused with a typed error naming it", async () => {
    const { log, chainId } = await sampleLog(1);
    const text = `${await exportText(log, chainId, "jsonl")}${"x".repeat(MAX_LINE_BYTES + 10)}\n`;
    const r = await verify(text, "jsonl");
    expect(r).toMatchObject({ ok: false, reason: "malformed", line: 3 });
    if (!r.ok) expect(r.message).toContain("longer than");
    const iter = readExport([Buffer.from(text)], { format: "jsonl" });
    await expect(
      (async () => {
        for await (const _ of iter) void _;
      })(),
    ).rejects.toSatisfy(
      (e: unknown) => isKeywardenError(e, "ERR_AUDIT_MALFORMED_INPUT") && e.details?.line === 3,
    );
  });

  it("an entry before the manifest is refused", async () => {
    const { log, chainId } = await sampleLog(2);
    const ls = (await exportText(log, chainId, "jsonl")).split("\n");
    expect(await verify([ls[1], ls[0], ls[2], ""].join("\n"), "jsonl")).toMatchObject({
      ok: false,
      line: 1,
    });
  });

  it("a CSV with a broken quote or a wrong header is refused", async () => {
    const { log, chainId } = await sampleLog(2);
    const text = await exportText(log, chainId, "csv");
    expect(await verify(text.replace("seq,ts", "seq,time"), "csv")).toMatchObject({
      ok: false,
      line: 1,
    });
    expect(await verify(text.replace(/\n0,/, '\n"0,'), "csv")).toMatchObject({
      ok: false,
      line: 3,
    });
  });

  it("empty input is not valid (no manifest)", async () => {
    expect((await verify("", "jsonl")).ok).toBe(false);
    expect((await verify("", "csv")).ok).toBe(false);
  });
});

describe("manifest annotations (e.g. a signed checkpoint)", () => {
  it.each(["jsonl", "csv"] as const)(
    "are carried in the %s manifest, verified as part of the canonical record, and cannot replace core fields",
    async (format) => {
      const { exportChain } = await import("../../../src/audit/index.js");
      const { log, chainId } = await sampleLog(2);
      let text = "";
      for await (const c of exportChain(log, chainId, {
        format,
        annotateManifest: async () => ({ checkpoint: "example.com/log\n2\nAAAA\n" }),
      }))
        text += c;
      const r = await verify(text, format);
      expect(r).toMatchObject({
        ok: true,
        size: 2,
        manifest: { checkpoint: "example.com/log\n2\nAAAA\n" },
      });
      const chunks = exportChain(log, chainId, {
        format,
        annotateManifest: async () => ({ size: 99 }),
      });
      await expect(chunks.next()).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    },
  );
});
