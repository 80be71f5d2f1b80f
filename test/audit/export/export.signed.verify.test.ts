import { inspect } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type ExportManifest, manifestSignedText } from "../../../src/audit/export/manifest.js";
import { type AuditLog, exportChain, sha256Node, verifyExport } from "../../../src/audit/index.js";
import {
  type NoteVerifier,
  parseVerifierKey,
  signNote,
} from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { canonicalize } from "../../../src/canonical.js";
import { KeywardenError } from "../../../src/errors.js";
import { sampleLog } from "../helpers.js";

type Format = "jsonl" | "csv";
const FORMATS: Format[] = ["jsonl", "csv"];

const logKey = LocalEd25519Signer.generate("audit.example.com");
const otherKey = LocalEd25519Signer.generate("audit.example.com");
const strangerKey = LocalEd25519Signer.generate("stranger.example");
const keyOf = (s: LocalEd25519Signer): NoteVerifier => parseVerifierKey(s.verifierKey);
const sample = sampleLog(5, "alice", [2]);
afterAll(() => {
  for (const k of [logKey, otherKey, strangerKey]) {
    k.signer.destroy();
    k.privateKey.wipe();
  }
});

async function text(
  log: AuditLog,
  chainId: string,
  format: Format,
  extra: Partial<Parameters<typeof exportChain>[2]> = {},
): Promise<string> {
  let out = "";
  for await (const c of exportChain(log, chainId, { format, ...extra })) out += c;
  return out;
}

async function signedExport(format: Format, signer = logKey.signer): Promise<string> {
  const { log, chainId } = await sample;
  return text(log, chainId, format, { signer });
}

const verify = (
  t: string,
  format: Format,
  manifestKeys?: readonly NoteVerifier[],
  allowUnsignedManifest?: boolean,
) =>
  verifyExport([Buffer.from(t)], {
    format,
    sha256: sha256Node,
    manifestKeys,
    allowUnsignedManifest,
  });

/** Rewrites the manifest of an export (keeping the line canonical, so only the content changes). */
function editManifest(t: string, format: Format, edit: (m: Record<string, unknown>) => void) {
  if (format === "jsonl") {
    const nl = t.indexOf("\n");
    const m = JSON.parse(t.slice(0, nl)).manifest;
    edit(m);
    return `{"manifest":${canonicalize(m)}}${t.slice(nl)}`;
  }
  const lines = t.split("\n");
  const row = lines[1] as string;
  const cell = row.slice("manifest,,,,,,,,".length, row.length - 2); // quoted JSON cell, then ",,"
  const m = JSON.parse(cell.slice(1, -1).replaceAll('""', '"'));
  edit(m);
  lines[1] = `manifest,,,,,,,,"${canonicalize(m).replaceAll('"', '""')}",,`;
  return lines.join("\n");
}

function manifestOf(t: string, format: Format): ExportManifest {
  let m: ExportManifest | undefined;
  editManifest(t, format, (x) => {
    m = structuredClone(x) as ExportManifest;
  });
  return m as ExportManifest;
}

describe("signed export manifests", () => {
  it.each(FORMATS)("a signed %s export verifies with the right key", async (format) => {
    const t = await signedExport(format);
    const m = manifestOf(t, format);
    expect(m.origin).toBe("audit.example.com/keywarden/user:alice");
    expect(m.signature).toMatch(/^\u2014 audit\.example\.com [A-Za-z0-9+/=]+\n$/);
    const r = await verify(t, format, [keyOf(logKey.signer)]);
    expect(r).toMatchObject({ ok: true, size: 5, redacted: 1, chainId: "user:alice" });
  });

  it.each(FORMATS)(
    "the entries of a signed %s export are the unsigned export's",
    async (format) => {
      const { log, chainId } = await sample;
      const signed = await signedExport(format);
      const plain = await text(log, chainId, format);
      const skip = format === "jsonl" ? 1 : 2;
      expect(signed.split("\n").slice(skip)).toEqual(plain.split("\n").slice(skip));
    },
  );

  it.each(FORMATS)(
    "tampering with size, head, chain id or origin of a signed %s manifest fails with manifest-signature",
    async (format) => {
      const t = await signedExport(format);
      const edits: ((m: Record<string, unknown>) => void)[] = [
        (m) => {
          m.size = 4;
        },
        (m) => {
          m.headHash = "ab".repeat(32);
        },
        (m) => {
          m.chainId = "user:bob";
        },
        (m) => {
          m.chainId = "user:bob";
          m.origin = "audit.example.com/keywarden/user:bob";
        },
        (m) => {
          m.origin = "evil.example/keywarden/user:alice";
        },
        (m) => {
          m.note = "added after signing";
        },
      ];
      for (const edit of edits) {
        const bad = editManifest(t, format, edit);
        expect(bad).not.toBe(t);
        const r = await verify(bad, format, [keyOf(logKey.signer)]);
        expect(r).toMatchObject({ ok: false, reason: "manifest-signature", seq: 0 });
        expect(r.ok ? undefined : r.line).toBe(format === "jsonl" ? 1 : 2);
      }
      // The size edit alone, verified without keys, is caught only later and differently.
      const unchecked = await verify(
        editManifest(t, format, (m) => {
          m.size = 4;
        }),
        format,
      );
      expect(unchecked).toMatchObject({ ok: false, reason: "malformed" });
    },
  );

  it.each(FORMATS)("a %s export signed by another key fails (wrong key)", async (format) => {
    const t = await signedExport(format, otherKey.signer);
    const r = await verify(t, format, [keyOf(logKey.signer)]);
    expect(r).toMatchObject({
      ok: false,
      reason: "manifest-signature",
      message: "manifest signature verification failed",
    });
  });

  it("with verifier keys given, an unsigned manifest is rejected unless unsigned ones are explicitly allowed.", async () => {
    const { log, chainId } = await sample;
    for (const format of FORMATS) {
      const t = await text(log, chainId, format);
      expect(await verify(t, format, [keyOf(logKey.signer)])).toMatchObject({
        ok: false,
        reason: "manifest-signature",
        message: "manifest is not signed",
      });
      expect(await verify(t, format, [])).toMatchObject({
        ok: false,
        reason: "manifest-signature",
      });
      expect(await verify(t, format, [keyOf(logKey.signer)], true)).toMatchObject({ ok: true });
      // Allowing unsigned manifests never lets a bad signature through.
      const wrong = await signedExport(format, otherKey.signer);
      expect(await verify(wrong, format, [keyOf(logKey.signer)], true)).toMatchObject({
        ok: false,
        reason: "manifest-signature",
      });
    }
  });

  it.each(FORMATS)("an unsigned %s export without keys still passes", async (format) => {
    const { log, chainId } = await sample;
    expect(await verify(await text(log, chainId, format), format)).toMatchObject({
      ok: true,
      size: 5,
    });
  });

  it.each(FORMATS)("without keys a signed %s manifest is accepted unchecked", async (format) => {
    const t = await signedExport(format, otherKey.signer);
    expect(await verify(t, format)).toMatchObject({ ok: true, size: 5 });
  });

  it("signatures by keys not among the given ones are ignored; with no known key it is rejected", async () => {
    const t = await signedExport("jsonl");
    const m = manifestOf(t, "jsonl");
    const signedText = manifestSignedText(m);
    const lines = async (...signers: LocalEd25519Signer[]) =>
      (await signNote(signedText, signers)).slice(signedText.length + 1);
    const withStranger = await lines(strangerKey.signer, logKey.signer);
    const t2 = editManifest(t, "jsonl", (x) => {
      x.signature = withStranger;
    });
    expect(await verify(t2, "jsonl", [keyOf(logKey.signer)])).toMatchObject({ ok: true });
    // Only an unknown key verifies nothing.
    expect(await verify(t2, "jsonl", [keyOf(otherKey.signer)])).toMatchObject({
      ok: false,
      reason: "manifest-signature",
    });
    // A known key's failing signature rejects even beside a valid one.
    const good = await lines(logKey.signer);
    const [, name, b64] = /^\u2014 (\S+) (\S+)\n$/.exec(good) as RegExpExecArray;
    const raw = Buffer.from(b64 as string, "base64");
    raw[10] = (raw[10] as number) ^ 0x01; // a bit of the Ed25519 signature (after the 4-byte key ID)
    const flipped = `\u2014 ${name} ${raw.toString("base64")}\n`;
    expect(flipped).not.toBe(good);
    const t3 = editManifest(t, "jsonl", (x) => {
      x.signature = `${withStranger.split("\n")[0] as string}\n${flipped}`;
    });
    expect(
      await verify(t3, "jsonl", [keyOf(logKey.signer), keyOf(strangerKey.signer)]),
    ).toMatchObject({
      ok: false,
      reason: "manifest-signature",
    });
    expect(await verify(t3, "jsonl", [keyOf(strangerKey.signer)])).toMatchObject({ ok: true });
  });

  it("a signed manifest's origin names the manifest's own chain.", async () => {
    const t = await signedExport("jsonl");
    const m = manifestOf(t, "jsonl");
    // Re-sign with a wrong origin: the signature is valid, the origin is not.
    const edited = { ...m, origin: "audit.example.com/keywarden/user:bob" };
    const signedText = manifestSignedText(edited);
    const sig = (await signNote(signedText, [logKey.signer])).slice(signedText.length + 1);
    const bad = editManifest(t, "jsonl", (x) => {
      x.origin = edited.origin;
      x.signature = sig;
    });
    expect(await verify(bad, "jsonl", [keyOf(logKey.signer)])).toMatchObject({
      ok: false,
      reason: "manifest-signature",
      message: "manifest origin does not name its chain",
    });
  });

  it("rejects malformed signature members and extra blank lines", async () => {
    const t = await signedExport("jsonl");
    const sig = manifestOf(t, "jsonl").signature as string;
    for (const value of [42, "", sig.slice(0, -1), `\n${sig}`, `${sig}\n`, null]) {
      const bad = editManifest(t, "jsonl", (x) => {
        x.signature = value;
      });
      expect(await verify(bad, "jsonl", [keyOf(logKey.signer)])).toMatchObject({
        ok: false,
        reason: "manifest-signature",
        message: "manifest signature is malformed",
      });
    }
  });

  it("the signature covers annotations, and reserved members cannot be annotated", async () => {
    const { log, chainId } = await sample;
    const t = await text(log, chainId, "csv", {
      signer: logKey.signer,
      logName: "logs.example.org",
      annotateManifest: async () => ({ checkpoint: "example.com/log\n2\nAAAA\n" }),
    });
    expect(manifestOf(t, "csv").origin).toBe("logs.example.org/keywarden/user:alice");
    expect(await verify(t, "csv", [keyOf(logKey.signer)])).toMatchObject({ ok: true });
    const bad = editManifest(t, "csv", (x) => {
      x.checkpoint = "example.com/log\n3\nAAAA\n";
    });
    expect(await verify(bad, "csv", [keyOf(logKey.signer)])).toMatchObject({
      reason: "manifest-signature",
    });
    for (const field of ["signature", "origin"]) {
      await expect(
        text(log, chainId, "jsonl", { annotateManifest: async () => ({ [field]: "x" }) }),
      ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    }
    await expect(text(log, chainId, "jsonl", { logName: "x.example" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    await expect(
      text(log, chainId, "jsonl", { signer: logKey.signer, logName: "has space" }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("rejects manifestKeys that are not note verifiers", async () => {
    const t = await signedExport("jsonl");
    await expect(
      verifyExport([Buffer.from(t)], {
        format: "jsonl",
        sha256: sha256Node,
        manifestKeys: [logKey.signer.verifierKey as unknown as NoteVerifier],
      }),
    ).rejects.toBeInstanceOf(KeywardenError);
  });

  it("the signing key never appears in an export or a failure", async () => {
    const keyText = logKey.privateKey.useText((s) => s);
    // PRIVATE+KEY+<name>+<hash>+<base64>: the base64 part may itself contain "+".
    const seedPart = keyText.trim().split("+").slice(4).join("+");
    for (const format of FORMATS) {
      const t = await signedExport(format);
      expect(t).not.toContain(seedPart);
      const r = await verify(t, format, [keyOf(otherKey.signer)]);
      expect(JSON.stringify(r)).not.toContain(seedPart);
    }
    const { log, chainId } = await sample;
    const err = await text(log, chainId, "jsonl", {
      signer: logKey.signer,
      annotateManifest: async () => ({ origin: "x" }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeywardenError);
    for (const s of [JSON.stringify(err), inspect(err, { depth: 9 }), String(err)])
      expect(s).not.toContain(seedPart);
    expect(inspect(logKey.signer)).not.toContain(seedPart);
  });
});

describe("signed manifests: import and edge cases", () => {
  it("importExport with manifestKeys imports a signed export and refuses an unsigned one before writing", async () => {
    const { createMemoryAuditStore, importExport } = await import("../../../src/audit/index.js");
    const { log, chainId } = await sample;
    for (const format of FORMATS) {
      const store = createMemoryAuditStore();
      const head = await importExport(store, [Buffer.from(await signedExport(format))], {
        format,
        sha256: sha256Node,
        manifestKeys: [keyOf(logKey.signer)],
      });
      expect(head).toEqual({ chainId, ...(await log.head(chainId)) });

      const empty = createMemoryAuditStore();
      const err = await importExport(empty, [Buffer.from(await text(log, chainId, format))], {
        format,
        sha256: sha256Node,
        manifestKeys: [keyOf(logKey.signer)],
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: "ERR_AUDIT_CHAIN_BROKEN",
        details: { reason: "manifest-signature", seq: 0 },
      });
      expect((await empty.head(chainId)).size).toBe(0);
    }
  });

  it("an empty chain's signed manifest (size 0, headHash null) verifies", async () => {
    const { AuditLog, createMemoryAuditStore } = await import("../../../src/audit/index.js");
    const log = new AuditLog({ store: createMemoryAuditStore() });
    for (const format of FORMATS) {
      const t = await text(log, "user:nobody", format, { signer: logKey.signer });
      expect(manifestOf(t, format)).toMatchObject({ size: 0, headHash: null });
      expect(await verify(t, format, [keyOf(logKey.signer)])).toMatchObject({ ok: true, size: 0 });
      const grown = editManifest(t, format, (m) => {
        m.size = 1;
        m.headHash = "ab".repeat(32);
      });
      expect(await verify(grown, format, [keyOf(logKey.signer)])).toMatchObject({
        reason: "manifest-signature",
      });
    }
  });
});
