/**
 * AwsKms end to end: the real @aws-sdk/client-kms and @aws-sdk/credential-providers against the
 * local STS + KMS protocol server (test/support/aws-local), which verifies users' JWTs against a
 * local JWKS, issues session credentials carrying the userId tag, checks SigV4 and enforces the
 * key policy produced by buildKeyPolicy.
 */
import { DecryptCommand, KMSClient, ReEncryptCommand } from "@aws-sdk/client-kms";
import { fromWebToken } from "@aws-sdk/credential-providers";
import { createLocalJWKSet } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Identity } from "../../../src/guard/identity.js";
import { createSessionVerifier } from "../../../src/guard/session.js";
import { createVault, type Vault } from "../../../src/vault/core/vault.js";
import { AwsKms } from "../../../src/vault/kms/aws.js";
import {
  buildKeyPolicy,
  buildTrustPolicy,
  type PolicyOptions,
} from "../../../src/vault/kms/aws-policy.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../../support/aws-local/index.js";

const ACCOUNT = "111122223333";
const KEY_ID = `mrk-${"ab".repeat(16)}`;
const SESSION_ROLE = `arn:aws:iam::${ACCOUNT}:role/keywarden-user-session`;
const GRANT_ROLE = `arn:aws:iam::${ACCOUNT}:role/keywarden-grant-runner`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:user/operator`;

let idp: TestIdentityProvider;
let aws: AwsLocal;
let policyOptions: PolicyOptions;

beforeAll(async () => {
  idp = await createTestIdentityProvider();
  const host = new URL(idp.issuer).host;
  policyOptions = {
    accountId: ACCOUNT,
    oidcProvider: host,
    audience: idp.audience,
    sessionRoleName: "keywarden-user-session",
    grantRoleName: "keywarden-grant-runner",
    keyAdminArns: [ADMIN],
  };
  aws = await startAwsLocal({
    accountId: ACCOUNT,
    regions: ["eu-west-1", "us-east-1"],
    issuer: idp.issuer,
    audience: [idp.audience, "keywarden-bot"],
    jwks: idp.jwks,
    roles: [
      { arn: SESSION_ROLE, trustPolicy: buildTrustPolicy(policyOptions) as never },
      {
        // The bot's workload identity (its own token, no userId tag) assumes the grant runner role.
        arn: GRANT_ROLE,
        trustPolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: { [`${host}:aud`]: "keywarden-bot", [`${host}:sub`]: "bot" },
              },
            },
          ],
        },
      },
    ],
    keys: [{ keyId: KEY_ID, multiRegion: true, policy: buildKeyPolicy(policyOptions) as never }],
    adminCredentials: {
      accessKeyId: "AKIAOPERATOR0000001",
      secretAccessKey: "operator-secret",
      userArn: ADMIN,
    },
  });
});
afterAll(async () => {
  await aws?.close();
});
beforeEach(() => {
  aws.clearFaults();
  aws.counters.reset();
});

const verifier = () =>
  createSessionVerifier({
    issuer: idp.issuer,
    audience: idp.audience,
    algorithms: ["ES256"],
    key: createLocalJWKSet(idp.jwks),
  });
const session = async (userId: string): Promise<Identity> =>
  verifier().verify(await idp.mintToken({ sub: userId, userId, expiresIn: 900 }));

function makeKms(
  region = "eu-west-1",
  extra: Partial<ConstructorParameters<typeof AwsKms>[0]> = {},
) {
  return new AwsKms({
    region,
    keys: {
      "eu-west-1": aws.keyArn(KEY_ID, "eu-west-1"),
      "us-east-1": aws.keyArn(KEY_ID, "us-east-1"),
    },
    sessionRoleArn: SESSION_ROLE,
    kmsClientConfig: { endpoint: aws.kmsEndpoint },
    stsClientConfig: { endpoint: aws.stsEndpoint },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
}

async function botCredentials() {
  return fromWebToken({
    roleArn: GRANT_ROLE,
    roleSessionName: "bot",
    webIdentityToken: await idp.mintToken({
      sub: "bot",
      audience: "keywarden-bot",
      expiresIn: 900,
    }),
    clientConfig: { region: "eu-west-1", endpoint: aws.stsEndpoint },
  });
}

async function makeVault(
  region = "eu-west-1",
  store = new MemoryCredentialStore(),
): Promise<{ vault: Vault; store: MemoryCredentialStore; kms: AwsKms }> {
  const kms = makeKms(region, { grantCredentials: await botCredentials() });
  return { vault: createVault({ kms, store }), store, kms };
}

const read = (vault: Vault, who: Identity, id: string, action?: string) =>
  vault.withCredentials(who, id, (c) => c.secret?.useText((t) => t), action ? { action } : {});

describe("AwsKms against the local STS + KMS server", () => {
  it("exactly one KMS Decrypt per open and one STS call per session", async () => {
    const { vault } = await makeVault();
    const alice = await session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s-alice" },
    });
    const kmsBefore = aws.counters.count({ service: "kms" });
    for (let i = 0; i < 5; i++) expect(await read(vault, alice, credentialId)).toBe("s-alice");
    expect(
      aws.counters.count({
        service: "kms",
        operation: "Decrypt",
        tags: { userId: "alice" },
        outcome: "ok",
      }),
    ).toBe(5);
    expect(aws.counters.count({ service: "kms" }) - kmsBefore).toBe(5);
    // one STS call for alice's whole session (store + 5 opens)
    expect(aws.counters.count({ service: "sts", operation: "AssumeRoleWithWebIdentity" })).toBe(1);
    const bob = await session("bob");
    await vault.store(bob, { exchange: "binance", credentials: { secret: "s-bob" } });
    await vault.store(bob, { exchange: "okx", credentials: { secret: "s-bob-2" } });
    expect(aws.counters.count({ service: "sts", operation: "AssumeRoleWithWebIdentity" })).toBe(2);
    expect(
      aws
        .sessions()
        .map((s) => s.tags.userId)
        .sort(),
    ).toEqual(["alice", "bob"]);
  });

  it("user B's token cannot open user A's data key at the KMS layer", async () => {
    const { vault, store, kms } = await makeVault();
    const alice = await session("alice");
    const bob = await session("bob");
    await vault.store(alice, { exchange: "binance", credentials: { secret: "s-alice" } });
    const wrapped = (await store.forUser("alice").getUserKey())?.wrappedDataKey as Uint8Array;
    aws.counters.reset();
    // keywarden's own check would refuse first; claim to be alice while presenting bob's token,
    // so only KMS stands between bob and alice's key
    const lying = {
      kind: "session",
      userId: "alice",
      sessionId: bob.id,
      token: bob.token,
      expiresAt: bob.expiresAt,
    } as const;
    const ctxA = { userId: "alice", purpose: "exchange-api-secret" } as const;
    // biome-ignore lint/style/noNonNullAssertion: verified sessions carry their token
    await expect(kms.decrypt(wrapped, ctxA, { ...lying, token: bob.token! })).rejects.toMatchObject(
      {
        code: "ERR_KMS_ACCESS_DENIED",
      },
    );
    expect(
      aws.counters.count({
        service: "kms",
        operation: "Decrypt",
        tags: { userId: "bob" },
        errorCode: "AccessDeniedException",
      }),
    ).toBe(1);
    // with bob's own context, the policy lets the call through, and the context (AAD) mismatch fails it
    const raw = new KMSClient({
      region: "eu-west-1",
      endpoint: aws.kmsEndpoint,
      maxAttempts: 1,
      credentials: fromWebToken({
        roleArn: SESSION_ROLE,
        webIdentityToken: await idp.mintToken({ sub: "bob", userId: "bob" }),
        clientConfig: { region: "eu-west-1", endpoint: aws.stsEndpoint },
      }),
    });
    await expect(
      raw.send(
        new DecryptCommand({
          CiphertextBlob: wrapped,
          EncryptionContext: { userId: "bob", purpose: "exchange-api-secret" },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidCiphertextException" });
  });

  it("the operator (key administrator, AdministratorAccess) cannot decrypt or re-encrypt", async () => {
    const { vault, store } = await makeVault();
    const alice = await session("alice");
    await vault.store(alice, { exchange: "binance", credentials: { secret: "s-alice" } });
    const wrapped = (await store.forUser("alice").getUserKey())?.wrappedDataKey as Uint8Array;
    const op = new KMSClient({
      region: "eu-west-1",
      endpoint: aws.kmsEndpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: "AKIAOPERATOR0000001", secretAccessKey: "operator-secret" },
    });
    const ctx = { userId: "alice", purpose: "exchange-api-secret" };
    await expect(
      op.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: ctx })),
    ).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    await expect(
      op.send(
        new ReEncryptCommand({
          CiphertextBlob: wrapped,
          SourceEncryptionContext: ctx,
          DestinationKeyId: aws.keyArn(KEY_ID, "eu-west-1"),
        }),
      ),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
  });

  it("grants open through the grant runner role, which cannot open the user's own key", async () => {
    const { vault, store } = await makeVault();
    const alice = await session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s-alice" },
    });
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["cancel"],
      ttlMs: 600_000,
    });
    aws.counters.reset();
    expect(await read(vault, grant, credentialId, "cancel")).toBe("s-alice");
    expect(await read(vault, grant, credentialId, "cancel")).toBe("s-alice");
    expect(
      aws.counters.count({
        service: "kms",
        operation: "Decrypt",
        principal: GRANT_ROLE,
        outcome: "ok",
      }),
    ).toBe(2);
    expect(aws.counters.count({ service: "sts" })).toBe(1); // one STS call for the grant runner
    // the runner role presented with the user's primary wrapped key: denied by the key policy
    const runner = new KMSClient({
      region: "eu-west-1",
      endpoint: aws.kmsEndpoint,
      maxAttempts: 1,
      credentials: await botCredentials(),
    });
    const wrapped = (await store.forUser("alice").getUserKey())?.wrappedDataKey as Uint8Array;
    await expect(
      runner.send(
        new DecryptCommand({
          CiphertextBlob: wrapped,
          EncryptionContext: { userId: "alice", purpose: "exchange-api-secret" },
        }),
      ),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
    await vault.revokeGrant(alice, { grantId: grant.id });
    await expect(read(vault, grant, credentialId, "cancel")).rejects.toMatchObject({
      code: "ERR_VAULT_GRANT_REVOKED",
    });
  });

  it("retries throttling and 5xx, then maps what remains to typed errors", async () => {
    const { vault } = await makeVault();
    const alice = await session("alice");
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    aws.counters.reset();
    aws.inject({ kind: "throttling", service: "kms", operation: "Decrypt", times: 2 });
    expect(await read(vault, alice, credentialId)).toBe("s");
    expect(aws.counters.count({ service: "kms", operation: "Decrypt" })).toBe(3);
    aws.inject({ kind: "internal-error", service: "kms", operation: "Decrypt", times: 1 });
    aws.inject({ kind: "service-unavailable", service: "kms", operation: "Decrypt", times: 1 });
    expect(await read(vault, alice, credentialId)).toBe("s");
    aws.inject({ kind: "internal-error", service: "kms", times: Number.POSITIVE_INFINITY });
    await expect(read(vault, alice, credentialId)).rejects.toMatchObject({
      code: "ERR_KMS_UNAVAILABLE",
    });
    aws.clearFaults();
    aws.setKeyState(KEY_ID, "Disabled", "eu-west-1");
    try {
      await expect(read(vault, alice, credentialId)).rejects.toMatchObject({
        code: "ERR_KMS_KEY_UNAVAILABLE",
      });
    } finally {
      aws.setKeyState(KEY_ID, "Enabled", "eu-west-1");
    }
  });

  it("opens in another region through the multi-Region replica, and re-wraps after key rotation", async () => {
    const store = new MemoryCredentialStore();
    const { vault: eu } = await makeVault("eu-west-1", store);
    const alice = await session("alice");
    const { credentialId } = await eu.store(alice, {
      exchange: "binance",
      credentials: { secret: "s" },
    });
    const { vault: us } = await makeVault("us-east-1", store);
    aws.counters.reset();
    expect(await read(us, alice, credentialId)).toBe("s");
    expect(aws.counters.count({ service: "kms", operation: "Decrypt", region: "us-east-1" })).toBe(
      1,
    );
    aws.rotateKeyMaterial(KEY_ID);
    await eu.rewrap(alice);
    expect(
      aws.counters.count({
        service: "kms",
        operation: "ReEncrypt",
        tags: { userId: "alice" },
        outcome: "ok",
      }),
    ).toBe(1);
    expect(await read(eu, alice, credentialId)).toBe("s");
  });
});
