/**
 * Seal + open of a 64-byte secret. Same-run ratios against the floor (issue 21) and two baselines:
 * - the minimal envelope (bench/floors.ts): the four AES-256-GCM calls seal + open needs (unwrap
 *   the data key, seal, unwrap, open) with node:crypto, the same 256-bit keys, the same
 *   associated-data bytes as LocalKms and the envelope, and the same encoded plaintext, prepared
 *   before timing; target: keywarden seal+open >= 0.9x its throughput (authorization excluded),
 *   and reported with authorization included (the open-only floor beside vault.withCredentials);
 * - the AWS Encryption SDK for JavaScript (raw AES keyring, suite 0x0478, committing, unsigned);
 *   target: keywarden >= 20x its throughput;
 * - a bare node:crypto AES-256-GCM encrypt + decrypt; target: keywarden <= 3x its cost.
 *
 * "keywarden seal+open" is the vault's crypto path without the authorization check and without
 * storage: unwrap the user's data key with LocalKms, seal the credential set (AAD bound to user,
 * exchange, credential, revision), then for the open unwrap the data key again, open the blob,
 * decode the fields into Secrets, and wipe everything. "keywarden vault store+open" is the whole
 * Vault API on the memory store (manifest, authorization, audit-free), for reference.
 *
 * Run: npx vitest bench --run bench/vault.bench.ts
 */

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from "@aws-crypto/client-node";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, bench, describe } from "vitest";
import { createSessionVerifier } from "../src/guard/session.js";
import { Secret } from "../src/secret.js";
import { decodeFields, encodeFields, wipeFields } from "../src/vault/core/credential-fields.js";
import { createVault } from "../src/vault/core/vault.js";
import { associatedData, BLOB_KIND, openBlob, sealBlob } from "../src/vault/format/envelope.js";
import { AwsKms } from "../src/vault/kms/aws.js";
import { buildKeyPolicy, buildTrustPolicy } from "../src/vault/kms/aws-policy.js";
import { LocalKms } from "../src/vault/kms/local.js";
import { MemoryCredentialStore } from "../src/vault/stores/memory.js";
import { createTestIdentityProvider, startAwsLocal } from "../test/support/aws-local/index.js";
import {
  type EnvelopeFloorInput,
  envelopeFloor,
  envelopeOpenFloor,
  sealForFloor,
  settingsLine,
  unwrapDataKey,
  wrapDataKey,
} from "./floors.js";

const secret64 = new Uint8Array(randomBytes(64));
const userId = "user-7f3a9c2e-4b1d-4e8a-9c3f-1a2b3c4d5e6f-x"; // 41 chars, as in the reference bench
const ctx = { userId, exchange: "binance", credentialId: "cred_abcdefghijklmnop", revision: 1 };
const master = new Uint8Array(randomBytes(32));

// keywarden
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

async function keywardenSealOpen(): Promise<void> {
  const dk = await kms.decrypt(wrapped, kctx, auth);
  const plain = encodeFields({ secret: secret64 });
  const blob = dk.use((k) => sealBlob(k, BLOB_KIND.credential, ctx, plain));
  plain.fill(0);
  dk.wipe();
  const dk2 = await kms.decrypt(wrapped, kctx, auth);
  const opened = dk2.use((k) => openBlob(k, BLOB_KIND.credential, ctx, blob));
  dk2.wipe();
  const creds = decodeFields(opened);
  opened.fill(0);
  wipeFields(creds);
}

// the floor: the same bytes LocalKms and the envelope authenticate, prepared once
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
const TIME = Number(process.env.KW_BENCH_TIME ?? 1500);
console.log(
  settingsLine("vault.bench.ts", {
    secretBytes: secret64.length,
    sealedPlaintextBytes: floorInput.plaintext.length,
    kmsAadBytes: floorInput.kmsAad.length,
    blobAadBytes: floorInput.blobAad.length,
    timeMsPerBench: TIME,
  }),
);

// bare node:crypto AES-256-GCM (one key, no envelope)
const bareKey = new Uint8Array(randomBytes(32));
const bareAad = Buffer.from(`vault:v1:userId=${userId}`);
function bareGcm(): void {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", bareKey, iv);
  c.setAAD(bareAad);
  const ct = Buffer.concat([c.update(secret64), c.final()]);
  const tag = c.getAuthTag();
  const d = createDecipheriv("aes-256-gcm", bareKey, iv);
  d.setAAD(bareAad);
  d.setAuthTag(tag);
  Buffer.concat([d.update(ct), d.final()]).fill(0);
}

// AWS Encryption SDK, raw AES keyring, suite 0x0478
const esdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const keyring = new RawAesKeyringNode({
  keyName: "vault-master",
  keyNamespace: "keywarden-bench",
  unencryptedMasterKey: new Uint8Array(master),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
async function esdkRoundTrip(): Promise<void> {
  const { result } = await esdk.encrypt(keyring, secret64, {
    encryptionContext: { userId },
    suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  });
  const { plaintext, messageHeader } = await esdk.decrypt(keyring, result);
  if (messageHeader.encryptionContext.userId !== userId) throw new Error("context mismatch");
  plaintext.fill(0);
}

// the whole Vault API (authorization included), for reference
const { privateKey, publicKey } = await generateKeyPair("ES256");
void exportJWK;
const verifier = createSessionVerifier({
  issuer: "https://b/",
  audience: "b",
  algorithms: ["ES256"],
  key: publicKey,
});
const session = await verifier.verify(
  await new SignJWT({})
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer("https://b/")
    .setAudience("b")
    .setSubject("bench-user")
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(privateKey),
);
const vault = createVault({ kms, store: new MemoryCredentialStore() });
const { credentialId } = await vault.store(session, {
  exchange: "binance",
  credentials: { secret: secret64 },
});
async function vaultOpen(): Promise<void> {
  await vault.withCredentials(session, credentialId, (c) => c.secret?.byteLength);
}

describe("seal + open, 64-byte secret (target: keywarden >= 0.9x the minimal envelope)", () => {
  bench(
    "floor: minimal envelope, node:crypto (unwrap, seal, unwrap, open; same keys and AAD)",
    () => envelopeFloor(floorInput, floorWrapped),
    { time: TIME },
  );
  bench("keywarden seal+open (LocalKms, no auth check)", keywardenSealOpen, { time: TIME });
});

describe("seal + open, 64-byte secret: earlier baselines (keywarden >= 20x the ESDK, <= 3x bare GCM)", () => {
  bench("node:crypto AES-256-GCM encrypt+decrypt (bare baseline)", bareGcm, { time: TIME });
  bench("keywarden seal+open (LocalKms, no auth check)", keywardenSealOpen, { time: TIME });
  bench("AWS Encryption SDK raw AES keyring, suite 0x0478", esdkRoundTrip, { time: TIME });
});

describe("open with authorization included (ratio to the open half of the floor)", () => {
  bench(
    "floor: minimal envelope open, node:crypto (unwrap, open)",
    () => envelopeOpenFloor(floorInput, floorWrapped, floorSealed),
    { time: TIME },
  );
  bench("keywarden vault.withCredentials (open only, auth + manifest)", vaultOpen, { time: TIME });
});

// Per-order latency added by opening credentials with AwsKms: one KMS Decrypt (SigV4, loopback
// HTTP to the local STS+KMS server, key-policy evaluation) per open; STS once per session.
const idp = await createTestIdentityProvider();
const policy = {
  accountId: "111122223333",
  oidcProvider: new URL(idp.issuer).host,
  audience: idp.audience,
  sessionRoleName: "keywarden-user-session",
  keyAdminArns: ["arn:aws:iam::111122223333:user/operator"],
};
const keyId = `mrk-${"cd".repeat(16)}`;
const aws = await startAwsLocal({
  region: "eu-west-1",
  issuer: idp.issuer,
  audience: idp.audience,
  jwks: idp.jwks,
  roles: [
    {
      arn: "arn:aws:iam::111122223333:role/keywarden-user-session",
      trustPolicy: buildTrustPolicy(policy) as never,
    },
  ],
  keys: [{ keyId, multiRegion: true, policy: buildKeyPolicy(policy) as never }],
});
afterAll(() => aws.close());
const awsKms = new AwsKms({
  region: "eu-west-1",
  keys: { "eu-west-1": aws.keyArn(keyId) },
  sessionRoleArn: "arn:aws:iam::111122223333:role/keywarden-user-session",
  kmsClientConfig: { endpoint: aws.kmsEndpoint },
  stsClientConfig: { endpoint: aws.stsEndpoint },
});
const awsSession = await createSessionVerifier({
  issuer: idp.issuer,
  audience: idp.audience,
  algorithms: ["ES256"],
  key: (await import("jose")).createLocalJWKSet(idp.jwks),
}).verify(await idp.mintToken({ sub: "bench-user", userId: "bench-user", expiresIn: 3600 }));
const awsVault = createVault({ kms: awsKms, store: new MemoryCredentialStore() });
const awsCred = await awsVault.store(awsSession, {
  exchange: "binance",
  credentials: { secret: secret64 },
});

describe("open latency per order (loopback KMS server)", () => {
  bench("LocalKms vault.withCredentials", vaultOpen, { time: TIME });
  bench(
    "AwsKms vault.withCredentials (1 KMS Decrypt over HTTP)",
    async () => {
      await awsVault.withCredentials(awsSession, awsCred.credentialId, (c) => c.secret?.byteLength);
    },
    { time: TIME },
  );
});
