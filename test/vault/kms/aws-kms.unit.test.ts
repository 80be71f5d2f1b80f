import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { createVault } from "../../../src/vault/core/vault.js";
import { AwsKms } from "../../../src/vault/kms/aws.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import { canary, makeIdp } from "../helpers.js";
import { fakeKms } from "./fake-kms.js";

const ARN = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1111";
const ARN_US = "arn:aws:kms:us-east-1:111122223333:key/mrk-1111";
const ROLE = "arn:aws:iam::111122223333:role/keywarden-user-session";

async function setup(extra: Partial<ConstructorParameters<typeof AwsKms>[0]> = {}) {
  const idp = await makeIdp();
  const eu = fakeKms("eu-west-1", ARN);
  const us = fakeKms("us-east-1", ARN_US, eu.master);
  const factoryCalls: string[] = [];
  const sleeps: number[] = [];
  const kms = new AwsKms({
    region: "eu-west-1",
    keys: { "eu-west-1": ARN, "us-east-1": ARN_US },
    sessionRoleArn: ROLE,
    clientFactory: ({ region }) => {
      factoryCalls.push(region);
      return region === "eu-west-1" ? eu.client : us.client;
    },
    retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.999 },
    ...extra,
  });
  const vault = createVault({ kms, store: new MemoryCredentialStore() });
  return { idp, eu, us, kms, vault, factoryCalls, sleeps };
}

describe("AwsKms with an injected structural client", () => {
  it("sends {userId, purpose} as EncryptionContext and makes exactly one Decrypt per open", async () => {
    const { idp, eu, vault, factoryCalls } = await setup();
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    expect(eu.calls.map((c) => c.op)).toEqual(["GenerateDataKey"]);
    expect(eu.calls[0]?.input).toMatchObject({
      KeyId: ARN,
      KeySpec: "AES_256",
      EncryptionContext: { userId: "alice", purpose: "exchange-api-secret" },
    });
    eu.calls.length = 0;
    for (let i = 0; i < 3; i++) {
      await vault.withCredentials(alice, credentialId, (c) => c.secret?.useText((t) => t));
    }
    expect(eu.calls.map((c) => c.op)).toEqual(["Decrypt", "Decrypt", "Decrypt"]);
    expect(factoryCalls).toEqual(["eu-west-1"]); // one client (one STS session) per session
    // the SDK's plaintext buffers were zeroed after copying
    expect(eu.handed.every((b) => b.every((x) => x === 0))).toBe(true);
  });

  it("retries throttling and 5xx with bounded, jittered backoff", async () => {
    const { idp, eu, vault, sleeps } = await setup();
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    eu.faults.push(
      { name: "ThrottlingException", status: 400 },
      { name: "KMSInternalException", status: 500 },
    );
    expect(
      await vault.withCredentials(alice, credentialId, (c) => c.secret?.useText((t) => t)),
    ).toBe("s");
    expect(sleeps).toEqual([49, 99]);
    for (let i = 0; i < 5; i++) eu.faults.push({ name: "ThrottlingException", status: 400 });
    eu.calls.length = 0;
    const err = await vault.withCredentials(alice, credentialId, () => 1).catch((e) => e);
    expect(err.code).toBe("ERR_KMS_THROTTLED");
    expect(err.details).toMatchObject({ awsError: "ThrottlingException", attempts: 4 });
    expect(eu.calls).toHaveLength(4); // bounded: the 5th fault is never reached
    expect(sleeps.slice(2)).toEqual([49, 99, 199]);
  });

  it.each([
    ["AccessDeniedException", 400, "ERR_KMS_ACCESS_DENIED"],
    ["InvalidCiphertextException", 400, "ERR_KMS_INVALID_CIPHERTEXT"],
    ["KMSInvalidStateException", 409, "ERR_KMS_KEY_UNAVAILABLE"],
    ["DisabledException", 409, "ERR_KMS_KEY_UNAVAILABLE"],
    ["NotFoundException", 404, "ERR_KMS_KEY_UNAVAILABLE"],
  ])("maps %s to %s without retrying and without the SDK error", async (name, status, code) => {
    const { idp, eu, vault } = await setup();
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    eu.calls.length = 0;
    const secretText = canary();
    eu.faults.push({ name, status, message: `server says ${secretText}` });
    const err = await vault.withCredentials(alice, credentialId, () => 1).catch((e) => e);
    expect(err.code).toBe(code);
    expect(eu.calls).toHaveLength(1);
    expect(err.cause).toBeUndefined();
    for (const text of [err.message, err.stack, inspect(err, { depth: 9 }), JSON.stringify(err)]) {
      expect(text).not.toContain(secretText);
    }
  });

  it("gives up after the bounded attempts in every region with ERR_KMS_UNAVAILABLE", async () => {
    const { idp, eu, us, vault } = await setup({ fallbackRegions: ["us-east-1"] });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    for (let i = 0; i < 4; i++) {
      eu.faults.push({ name: "KMSInternalException", status: 500 });
      us.faults.push({ name: "KMSInternalException", status: 500 });
    }
    eu.calls.length = 0;
    const err = await vault.withCredentials(alice, credentialId, () => 1).catch((e) => e);
    expect(err.code).toBe("ERR_KMS_UNAVAILABLE");
    expect(err.details).toMatchObject({ awsError: "KMSInternalException", attempts: 4 });
    expect(eu.calls).toHaveLength(4);
    expect(us.calls.map((c) => c.input.KeyId)).toEqual([ARN_US, ARN_US, ARN_US, ARN_US]);
  });

  it("uses a multi-Region replica in the fallback region when the home region is down", async () => {
    const { idp, eu, us, vault } = await setup({ fallbackRegions: ["us-east-1"] });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    for (let i = 0; i < 4; i++) eu.faults.push({ name: "ServiceUnavailable", status: 503 });
    expect(
      await vault.withCredentials(alice, credentialId, (c) => c.secret?.useText((t) => t)),
    ).toBe("s");
    expect(us.calls.at(-1)).toMatchObject({ op: "Decrypt", region: "us-east-1" });
  });

  it("Precondition: a grant is opened on AWS only with the grant runner's own credentials.", async () => {
    const { idp, vault } = await setup();
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    const err = await vault
      .withCredentials(grant, credentialId, () => 1, { action: "trade" })
      .catch((e) => e);
    expect(err.code).toBe("ERR_KMS_ACCESS_DENIED");
  });

  it("opens grant copies with the grant runner's client and the trading-grant context", async () => {
    const { idp, eu, vault, factoryCalls } = await setup({
      grantCredentials: { accessKeyId: "AKIDGRANT", secretAccessKey: "x" },
    });
    const alice = await idp.session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade"],
      ttlMs: 60_000,
    });
    expect(eu.calls.at(-1)).toMatchObject({
      op: "ReEncrypt",
      input: {
        SourceEncryptionContext: { userId: "alice", purpose: "exchange-api-secret" },
        DestinationEncryptionContext: {
          userId: "alice",
          purpose: "trading-grant",
          grantId: grant.id,
        },
      },
    });
    eu.calls.length = 0;
    expect(
      await vault.withCredentials(grant, credentialId, (c) => c.secret?.useText((t) => t), {
        action: "trade",
      }),
    ).toBe("s");
    expect(eu.calls).toEqual([
      expect.objectContaining({
        op: "Decrypt",
        input: expect.objectContaining({
          EncryptionContext: { userId: "alice", purpose: "trading-grant", grantId: grant.id },
        }),
      }),
    ]);
    expect(factoryCalls).toEqual(["eu-west-1", "eu-west-1"]); // session client + grant client
  });

  it("refuses construction without a key for its region", () => {
    expect(
      () => new AwsKms({ region: "ap-south-1", keys: { "eu-west-1": ARN }, sessionRoleArn: ROLE }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});

describe("AwsKms authorization", () => {
  it("Precondition: the authorization must be for the user named in the encryption context.", async () => {
    const { idp, eu, kms } = await setup();
    const bob = await idp.session("bob");
    const auth = {
      kind: "session",
      userId: "bob",
      sessionId: bob.id,
      token: bob.token as NonNullable<typeof bob.token>,
      expiresAt: bob.expiresAt,
    } as const;
    const ctx = { userId: "alice", purpose: "exchange-api-secret" } as const;
    await expect(kms.decrypt(new Uint8Array(64), ctx, auth)).rejects.toMatchObject({
      code: "ERR_KMS_ACCESS_DENIED",
    });
    await expect(kms.generateDataKey(ctx, auth)).rejects.toMatchObject({
      code: "ERR_KMS_ACCESS_DENIED",
    });
    expect(eu.calls).toHaveLength(0);
  });
});
