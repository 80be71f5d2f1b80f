/**
 * The vault target of issue 21 by CPU time, for a shared machine: keywarden's seal + open with
 * LocalKms (authorization excluded) and the minimal envelope (bench/floors.ts) run interleaved,
 * round after round, in one process, each timed by `process.cpuUsage()` (user + system of the
 * whole process, GC threads included) instead of wall time. Also the open with authorization
 * included (session and grant, memory store) against the open half of the floor.
 *
 *   npx tsx bench/vault-cpu.ts [rounds] [root] [ops]
 *
 * `root` (default: this checkout) is the directory whose `src/` is measured, so the same script
 * times another checkout (e.g. the branch's base) in the same minutes; `ops` is a comma-separated
 * subset of the operations.
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type EnvelopeFloorInput,
  envelopeFloor,
  envelopeOpenFloor,
  sealForFloor,
  settingsLine,
  unwrapDataKey,
  wrapDataKey,
} from "./floors.js";

const rounds = Number(process.argv[2] ?? 20);
const root = resolve(process.argv[3] ?? new URL("..", import.meta.url).pathname);
const load = (p: string) => import(pathToFileURL(resolve(root, p)).href);

const { Secret } = await load("src/secret.ts");
const { decodeFields, encodeFields, wipeFields } = await load(
  "src/vault/core/credential-fields.ts",
);
const { createVault } = await load("src/vault/core/vault.ts");
const { associatedData, BLOB_KIND, openBlob, sealBlob } = await load(
  "src/vault/format/envelope.ts",
);
const { LocalKms } = await load("src/vault/kms/local.ts");
const { MemoryCredentialStore } = await load("src/vault/stores/memory.ts");
const { makeIdp } = await import("../test/vault/helpers.js");

/** Round trips per sample. */
const N = 200;
const secret64 = new Uint8Array(randomBytes(64));
const userId = "user-7f3a9c2e-4b1d-4e8a-9c3f-1a2b3c4d5e6f-x";
const ctx = { userId, exchange: "binance", credentialId: "cred_abcdefghijklmnop", revision: 1 };
const master = new Uint8Array(randomBytes(32));
const kms = new LocalKms(Secret.copyOf(master));
const auth = {
  kind: "session",
  userId,
  sessionId: "s",
  token: Secret.fromString("t"),
  expiresAt: undefined,
} as const;
const kctx = { userId, purpose: "exchange-api-secret" } as const;
const { wrapped } = await kms.generateDataKey(kctx, auth);

async function sealOpen(): Promise<void> {
  const dk = await kms.decrypt(wrapped, kctx, auth);
  const plain = encodeFields({ secret: secret64 });
  const blob = dk.use((k: Uint8Array) => sealBlob(k, BLOB_KIND.credential, ctx, plain));
  plain.fill(0);
  dk.wipe();
  const dk2 = await kms.decrypt(wrapped, kctx, auth);
  const opened = dk2.use((k: Uint8Array) => openBlob(k, BLOB_KIND.credential, ctx, blob));
  dk2.wipe();
  const creds = decodeFields(opened);
  opened.fill(0);
  wipeFields(creds);
}

const floorInput: EnvelopeFloorInput = {
  master,
  kmsAad: Buffer.concat([
    wrapped.subarray(0, 11),
    Buffer.from(
      `{"format":"keywarden.local-kms","purpose":${JSON.stringify(kctx.purpose)},"userId":${JSON.stringify(userId)}}`,
    ),
  ]),
  blobAad: associatedData(BLOB_KIND.credential, ctx),
  plaintext: encodeFields({ secret: secret64 }),
};
// The floor's KMS associated data must be LocalKms's own: GCM rejects the real wrapped key otherwise.
unwrapDataKey(master, floorInput.kmsAad, Buffer.from(wrapped.subarray(11))).fill(0);
const floorWrapped = wrapDataKey(master, floorInput.kmsAad, randomBytes(32));
const floorSealed = sealForFloor(floorInput, floorWrapped);

const idp = await makeIdp();
const vault = createVault({ kms, store: new MemoryCredentialStore() });
const alice = await idp.session("alice");
const { credentialId } = await vault.store(alice, {
  exchange: "binance",
  credentials: { apiKey: "bench-key", secret: secret64 },
});
const { grant } = await vault.createGrant(alice, {
  exchanges: ["binance"],
  actions: ["trade"],
  ttlMs: 3_600_000,
});

const repeat = (fn: () => unknown) => async (): Promise<void> => {
  for (let i = 0; i < N; i++) await fn();
};
const ops: Record<string, () => Promise<void>> = {
  floor: repeat(() => envelopeFloor(floorInput, floorWrapped)),
  sealOpen: repeat(sealOpen),
  floorOpen: repeat(() => envelopeOpenFloor(floorInput, floorWrapped, floorSealed)),
  openSession: repeat(() => vault.withCredentials(alice, credentialId, () => 1)),
  openGrant: repeat(() =>
    vault.withCredentials(grant, credentialId, async () => 1, { action: "trade" }),
  ),
};
const only = (process.argv[4] ?? process.env.KW_OPS)?.split(",");
if (only) for (const k of Object.keys(ops)) if (!only.includes(k)) delete ops[k];

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
const cpuUs = async (op: () => Promise<void>): Promise<number> => {
  const t = process.cpuUsage();
  await op();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
};
for (let w = 0; w < 10; w++) for (const op of Object.values(ops)) await op(); // warm-up
for (let r = 0; r < rounds; r++)
  for (const [k, op] of Object.entries(ops)) samples[k]?.push(await cpuUs(op));

const min = (k: string) => Math.min(...(samples[k] as number[]));
const median = (k: string) => {
  const s = [...(samples[k] as number[])].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
console.log(settingsLine("vault-cpu.ts", { root, rounds, roundTripsPerSample: N }));
for (const k of Object.keys(ops))
  console.log(`${k.padEnd(12)} min ${min(k).toFixed(2)} µs  median ${median(k).toFixed(2)} µs`);
const show = (a: string, b: string, text: string) => {
  if (a in ops && b in ops)
    console.log(
      `${text}  ${(min(a) / min(b)).toFixed(3)} (min) / ${(median(a) / median(b)).toFixed(3)} (median)`,
    );
};
show("floor", "sealOpen", "seal+open    floor/op   target >= 0.9");
show("floorOpen", "openSession", "open, session auth + manifest  floor/op");
show("floorOpen", "openGrant", "open, grant auth + manifest    floor/op");
