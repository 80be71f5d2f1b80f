import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { Secret } from "../../../src/secret.js";
import { createVault } from "../../../src/vault/core/vault.js";
import { createMasterKeyFile, LocalKms } from "../../../src/vault/kms/local.js";
import { FileCredentialStore } from "../../../src/vault/stores/file.js";
import { SqliteCredentialStore } from "../../../src/vault/stores/sqlite.js";
import type { CredentialStore } from "../../../src/vault/stores/store.js";
import { canary, makeIdp, recordingAudit } from "../helpers.js";

const root = mkdtempSync(join(tmpdir(), "kw-canary-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every encoding a canary could take on disk or in text. */
function needles(value: string): string[] {
  const out = [
    value,
    Buffer.from(value).toString("hex"),
    Buffer.from(value).toString("hex").toUpperCase(),
  ];
  for (let pad = 0; pad < 3; pad++) {
    for (const enc of ["base64", "base64url"] as const) {
      const b = Buffer.from("x".repeat(pad) + value).toString(enc);
      out.push(b.slice(4, -4)); // alignment-independent core
    }
  }
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function expectClean(text: string | undefined, secrets: string[]) {
  for (const s of secrets) for (const n of needles(s)) expect(text ?? "").not.toContain(n);
}

function errorTexts(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let i = 0; e && i < 10; i++) {
    const x = e as Error;
    out.push(
      String(x.message),
      String(x.stack),
      inspect(x, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    );
    out.push(JSON.stringify(x) ?? "");
    e = x.cause;
  }
  return out;
}

async function scenario(name: string, makeStore: (dir: string) => Promise<CredentialStore>) {
  const dir = join(root, name);
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dir, { mode: 0o700 });
  const keyPath = join(dir, "master.key");
  createMasterKeyFile(keyPath);
  const kms = LocalKms.fromKeyFile(keyPath);
  const store = await makeStore(dir);
  const audit = recordingAudit();
  const vault = createVault({ kms, store, audit: audit.sink });
  const idp = await makeIdp();
  const alice = await idp.session("alice");
  const bob = await idp.session("bob");
  const secrets = [canary(), canary(), canary(), canary(), canary()];
  const [apiKey, secret, passphrase, rotated, extra] = secrets as [
    string,
    string,
    string,
    string,
    string,
  ];
  const errors: unknown[] = [];
  const texts: string[] = [];
  const fail = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => undefined,
      (x) => x,
    );
    expect(e).toBeDefined();
    errors.push(e);
  };

  const meta = await vault.store(alice, {
    exchange: "okx",
    label: "main",
    credentials: {
      apiKey,
      secret: Secret.fromString(secret),
      passphrase: Buffer.from(passphrase),
      uid: extra,
    },
  });
  texts.push(inspect(meta), JSON.stringify(meta));
  await vault.withCredentials(alice, meta.credentialId, (creds) => {
    texts.push(
      inspect(creds, { depth: 9, showHidden: true }),
      JSON.stringify(creds),
      String(creds.secret),
      `${creds.apiKey}`,
    );
    expect(creds.secret?.useText((t) => t)).toBe(secret);
  });
  // failures: callback throws, wrong user, grant out of scope, invalid inputs, tampering, wrong master key
  await fail(
    vault.withCredentials(alice, meta.credentialId, () =>
      Promise.reject(new Error("callback failed")),
    ),
  );
  await fail(vault.withCredentials(bob, meta.credentialId, () => 1));
  const { grant } = await vault.createGrant(alice, {
    exchanges: ["okx"],
    actions: ["cancel"],
    ttlMs: 60_000,
  });
  texts.push(inspect(grant, { depth: 9, showHidden: true }), JSON.stringify(grant));
  await fail(vault.withCredentials(grant, meta.credentialId, () => 1, { action: "trade" }));
  await fail(
    vault.store(alice, { exchange: "okx", credentials: { [`bad name ${secret}`]: secret } }),
  );
  await fail(
    vault.store(alice, {
      exchange: "okx",
      credentials: { secret: `${secret}${"x".repeat(20_000)}` },
    }),
  );
  await fail(vault.store(alice, { exchange: `BAD ${secret}`, credentials: { secret } }));
  await vault.rotate(alice, meta.credentialId, { apiKey, secret: rotated });
  const other = createVault({
    kms: new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32)))),
    store,
  });
  await fail(other.withCredentials(alice, meta.credentialId, () => 1));
  const rows = store.forUser("alice");
  const row = await rows.getCredential(meta.credentialId);
  const key = await rows.getUserKey();
  if (row && key) {
    const sealed = new Uint8Array(row.sealed);
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] as number) ^ 1;
    await rows.shred();
    await rows.commit({ expectedSeq: null, userKey: key, credentials: [{ ...row, sealed }] });
    await fail(vault.withCredentials(alice, meta.credentialId, () => 1));
  }
  await vault.disable(alice, meta.credentialId);
  await fail(vault.withCredentials(alice, meta.credentialId, () => 1));
  texts.push(
    inspect(vault, { depth: 9, showHidden: true }),
    inspect(kms, { depth: 9, showHidden: true }),
  );
  texts.push(JSON.stringify(audit.events), JSON.stringify(await vault.list(alice)));
  texts.push(...errors.flatMap(errorTexts));
  await store.close?.();
  return { dir, secrets, texts };
}

describe("canary secrets never leak", () => {
  it.each([
    ["file store", (dir: string) => FileCredentialStore.open(join(dir, "vault"))],
    [
      "SQLite store",
      async (dir: string) => new SqliteCredentialStore(new Database(join(dir, "vault.db"))),
    ],
  ] as const)(
    "through every path with the %s (errors, serialisation, files on disk)",
    async (name, make) => {
      const { dir, secrets, texts } = await scenario(name.replace(/\W/g, "-"), make);
      for (const t of texts) expectClean(t, secrets);
      const all = files(dir);
      expect(all.length).toBeGreaterThan(1);
      for (const f of all) {
        expect(statSync(f).mode & 0o077).toBe(0);
        expectClean(readFileSync(f).toString("latin1"), secrets);
      }
      // the scan itself can find a canary: planting one in a file is detected
      const plant = join(dir, "planted.txt");
      writeFileSync(plant, Buffer.from(secrets[0] as string).toString("base64"), { mode: 0o600 });
      expect(() => expectClean(readFileSync(plant).toString("latin1"), secrets)).toThrow();
    },
  );
});
