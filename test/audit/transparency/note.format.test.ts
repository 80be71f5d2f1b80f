import { describe, expect, it } from "vitest";
import {
  chainOrigin,
  formatCheckpoint,
  parseCheckpoint,
} from "../../../src/audit/transparency/checkpoint.js";
import {
  decodeVerifierKey,
  formatVerifierKey,
  openNote,
  parseNote,
  parseVerifierKey,
  SIG_TYPE_ED25519,
  signNote,
} from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  cosignatureVerifier,
  verifyCosignedCheckpoint,
} from "../../../src/audit/transparency/witness.js";
import { isKeywardenError } from "../../../src/errors.js";
import { Secret } from "../../../src/secret.js";

const invalid = (e: unknown) => isKeywardenError(e, "ERR_AUDIT_CHECKPOINT_INVALID");

// golang.org/x/mod/sumdb/note note_test.go / package documentation vector.
const PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = `${PETER_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

// A real static-CT checkpoint with an RFC 6962 signature (type 0x05, unknown here), the log's
// Ed25519 signature, and four witness cosignatures (from the tests of a public Python client).
const ARCHE_NOTE = `arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
`;
const ARCHE_VKEY =
  "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
const REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
const GARDEN_VKEY =
  "transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM";
const SMARTIT_VKEY =
  "witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO";

describe("signed note: published vectors", () => {
  it("signs the Go sumdb/note example byte-for-byte with the published signer key", async () => {
    const signer = LocalEd25519Signer.fromSecret(Secret.fromString(PETER_SKEY));
    expect(signer.verifierKey).toBe(PETER_VKEY);
    expect(await signNote(PETER_TEXT, [signer])).toBe(PETER_NOTE);
  });

  it("opens the Go example with the published verifier key and rejects a one-letter change", () => {
    expect(openNote(PETER_NOTE, [parseVerifierKey(PETER_VKEY)]).text).toBe(PETER_TEXT);
    expect(() =>
      openNote(PETER_NOTE.replace("cryptography", "cryptographY"), [parseVerifierKey(PETER_VKEY)]),
    ).toThrow(expect.toSatisfy(invalid));
  });

  it("verifies a real cosigned checkpoint: log signature, three witnesses, unknown RFC 6962 signature ignored", () => {
    const v = verifyCosignedCheckpoint(ARCHE_NOTE, {
      logKeys: [parseVerifierKey(ARCHE_VKEY)],
      witnesses: [REMORA_VKEY, GARDEN_VKEY, SMARTIT_VKEY].map((k) => cosignatureVerifier(k)),
      quorum: 3,
      now: 1_800_000_000,
    });
    expect(v.checkpoint.size).toBe(1432088532);
    expect(v.cosignatures.map((c) => c.name).sort()).toEqual(
      [
        "remora.n621.de",
        "transparency.dev/DEV:witness-little-garden",
        "witness1.smartit.nu/witness1",
      ].sort(),
    );
    expect(v.cosignatures[0]?.timestamp).toBe(0x6a122120);
    // a changed size breaks both the log signature and the cosignatures
    expect(() =>
      verifyCosignedCheckpoint(ARCHE_NOTE.replace("1432088532", "42"), {
        logKeys: [parseVerifierKey(ARCHE_VKEY)],
        now: 1_800_000_000,
      }),
    ).toThrow(expect.toSatisfy(invalid));
  });

  it("parses verifier keys as the spec defines them and rejects a key ID that does not match", () => {
    const k = decodeVerifierKey(
      "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    );
    expect(k.name).toBe("example.com/foo");
    expect(formatVerifierKey(k.name, SIG_TYPE_ED25519, k.publicKey)).toBe(
      "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    );
    expect(() =>
      decodeVerifierKey("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
    ).toThrow();
    expect(() => parseVerifierKey(REMORA_VKEY)).toThrow(); // a cosigner key is not a note key
    expect(() => cosignatureVerifier(PETER_VKEY)).toThrow();
  });

  it("Precondition: a verifier key whose key ID is not the hash of its name, type and key is rejected.", () => {
    expect(() => parseVerifierKey(PETER_VKEY.replace("PeterNeumann", "PeterNeumanm"))).toThrow(
      expect.toSatisfy((e) => isKeywardenError(e, "ERR_INVALID_ARGUMENT")),
    );
  });
});

describe("signed note: verifier rules", () => {
  const a = LocalEd25519Signer.generate("a.example/log").signer;
  const b = LocalEd25519Signer.generate("b.example/log").signer;
  const text = "a.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

  it("splits at the LAST blank line, so a text with blank lines inside is signed and verified whole", async () => {
    const multi = "line one\n\nline three\n";
    const note = await signNote(multi, [a]);
    expect(openNote(note, [parseVerifierKey(a.verifierKey)]).text).toBe(multi);
    // a first-blank-line splitter would see "line one\n" as the text: that must not verify
    expect(() =>
      openNote(`line one\n\n${note.slice(multi.length + 1)}`, [parseVerifierKey(a.verifierKey)]),
    ).toThrow();
  });

  it("ignores signatures by unknown keys (even with a known name or known key ID, not both)", async () => {
    const note = await signNote(text, [b, a]);
    const forgedSameName = note.replace(/\u2014 b\.example\/log /, "\u2014 a.example/log ");
    // same name as a, but b's key ID: unknown key, ignored; a's real signature still verifies
    expect(openNote(forgedSameName, [parseVerifierKey(a.verifierKey)]).verified).toHaveLength(1);
    expect(openNote(note, [parseVerifierKey(a.verifierKey)]).verified.map((s) => s.name)).toEqual([
      "a.example/log",
    ]);
  });

  it("Precondition: a signature by a known key that fails to verify rejects the whole note.", async () => {
    const good = await signNote(text, [a, b]);
    const lines = good.split("\n");
    const badB = (lines[5] as string).replace(/.{6}=$/, "AAAAAA=");
    const tampered = [...lines.slice(0, 5), badB, ""].join("\n");
    expect(() =>
      openNote(good, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]),
    ).not.toThrow();
    // a verifies, b (known) fails: reject — unlike verifiers that accept when *some* signature verifies
    expect(() =>
      openNote(tampered, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]),
    ).toThrow(expect.toSatisfy(invalid));
  });

  it("Precondition: a note that no known key verifies is rejected.", async () => {
    const note = await signNote(text, [b]);
    expect(() => openNote(note, [parseVerifierKey(a.verifierKey)])).toThrow(
      expect.toSatisfy(invalid),
    );
    expect(() => openNote(note, [])).toThrow(expect.toSatisfy(invalid));
  });

  it("Precondition: a note with an ASCII control character other than newline is rejected.", async () => {
    const note = await signNote(text, [a]);
    for (const c of ["\r", "\t", "\u0000", "\u001b"]) {
      expect(() => parseNote(note.replace("\n1\n", `\n1${c}\n`))).toThrow(
        expect.toSatisfy(invalid),
      );
    }
  });

  it("accepts at least 16 signatures (here 40, unknown ones ignored) and refuses more than 100", async () => {
    const others = Array.from(
      { length: 39 },
      (_, i) => LocalEd25519Signer.generate(`other${i}.example`).signer,
    );
    const note = await signNote(text, [...others, a]);
    expect(openNote(note, [parseVerifierKey(a.verifierKey)]).verified).toHaveLength(1);
    const line = note.slice(note.lastIndexOf("\u2014"));
    expect(() => parseNote(note + line.repeat(61))).toThrow(expect.toSatisfy(invalid));
  });

  it("rejects malformed notes: no blank line, no signature, bad line, bad base64, missing final newline", async () => {
    const note = await signNote(text, [a]);
    for (const bad of [
      text,
      `${text}\n`,
      note.slice(0, -1),
      note.replace("\u2014 ", "- "),
      note.replace("\u2014 a.example/log ", "\u2014 a.example/log  "),
      note.replace(/=\n$/, "\n"),
      note.replace("\u2014 a.example/log", "\u2014 a+b"),
      `${note}\n`,
      "\ud800".concat(note),
      `${note}\u2014 x ${"QUFBQQ=="}\n`.replace("QUFBQQ==", "QUFB"), // 3-byte signature
    ]) {
      expect(() => parseNote(bad), JSON.stringify(bad)).toThrow(expect.toSatisfy(invalid));
    }
  });
});

describe("tlog-checkpoint bodies", () => {
  const root = new Uint8Array(32).fill(7);
  it("round-trips origin, size, root, time and extensions byte-exactly", () => {
    const body = formatCheckpoint({
      origin: chainOrigin("audit.example.com", "user:42"),
      size: 12,
      rootHash: root,
      timestamp: 1764400000,
      extensions: ["x-other 1"],
    });
    expect(body).toBe(
      "audit.example.com/keywarden/user:42\n12\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\nkeywarden-time 1764400000\nx-other 1\n",
    );
    const cp = parseCheckpoint(body);
    expect(cp).toMatchObject({
      origin: "audit.example.com/keywarden/user:42",
      size: 12,
      timestamp: 1764400000,
    });
    expect(cp.extensions).toEqual(["x-other 1"]);
  });

  it("parses the spec's example and checkpoints without a time line", () => {
    const cp = parseCheckpoint(
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    );
    expect(cp.size).toBe(20852163);
    expect(cp.timestamp).toBeUndefined();
  });

  it("rejects leading zeros, non-canonical base64, short roots, spaces or '+' in the origin, blank extension lines", () => {
    const r = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    for (const bad of [
      `o\n012\n${r}\n`,
      `o\n-1\n${r}\n`,
      `o\n1\n${r.replace("c=", "d=")}\n`,
      "o\n1\nBwcH\n",
      `o o\n1\n${r}\n`,
      `o+o\n1\n${r}\n`,
      `o\n1\n${r}\n\n`,
      `o\n1\n${r}`,
      `o\n1\n`,
      `o\n99999999999999999\n${r}\n`,
    ]) {
      expect(() => parseCheckpoint(bad), bad).toThrow(expect.toSatisfy(invalid));
    }
  });

  it("Precondition: a checkpoint with a malformed or repeated time line is rejected.", () => {
    const r = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    expect(() => parseCheckpoint(`o\n1\n${r}\nkeywarden-time 01\n`)).toThrow(
      expect.toSatisfy(invalid),
    );
    expect(() => parseCheckpoint(`o\n1\n${r}\nkeywarden-time 1\nkeywarden-time 2\n`)).toThrow(
      expect.toSatisfy(invalid),
    );
  });

  it("names each chain's log <logName>/keywarden/<chainId> and refuses invalid names", () => {
    expect(chainOrigin("audit.example.com", "operator")).toBe(
      "audit.example.com/keywarden/operator",
    );
    expect(() => chainOrigin("bad name", "operator")).toThrow();
    expect(() => chainOrigin("a+b", "operator")).toThrow();
  });
});
