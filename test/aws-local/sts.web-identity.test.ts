import { DecryptCommand, GenerateDataKeyCommand } from "@aws-sdk/client-kms";
import { SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../support/aws-local/index.js";
import {
  ACCOUNT,
  providerHost,
  ROLE_ARN,
  sessionKms,
  trustPolicy,
  userContext,
  VAULT_KEY_ID,
  vaultKeyPolicy,
} from "./fixtures.js";

const SUB_PINNED_ROLE = `arn:aws:iam::${ACCOUNT}:role/only-user-a`;
const NO_TAG_SESSION_ROLE = `arn:aws:iam::${ACCOUNT}:role/no-tag-session`;

describe("aws-local STS AssumeRoleWithWebIdentity through fromWebToken", () => {
  let idp: TestIdentityProvider;
  let otherIdp: TestIdentityProvider;
  let impostor: TestIdentityProvider;
  let aws: AwsLocal;

  beforeAll(async () => {
    idp = await createTestIdentityProvider();
    otherIdp = await createTestIdentityProvider({ issuer: "https://other.example/", alg: "RS256" });
    // Same issuer, same kid and alg as `idp`, different private key.
    impostor = await createTestIdentityProvider();
    const host = providerHost(idp.issuer);
    aws = await startAwsLocal({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
      roles: [
        { arn: ROLE_ARN, trustPolicy: trustPolicy(idp) },
        {
          arn: NO_TAG_SESSION_ROLE,
          trustPolicy: {
            Version: "2012-10-17",
            Statement: {
              Effect: "Allow",
              Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
              Action: "sts:AssumeRoleWithWebIdentity",
            },
          },
        },
        {
          arn: SUB_PINNED_ROLE,
          trustPolicy: {
            Version: "2012-10-17",
            Statement: {
              Effect: "Allow",
              Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
              Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
              Condition: {
                StringEquals: { [`${host}:aud`]: idp.audience, [`${host}:sub`]: "user-a" },
              },
            },
          },
        },
      ],
      keys: [{ keyId: VAULT_KEY_ID, policy: vaultKeyPolicy() }],
    });
  });
  afterEach(() => {
    aws.clearFaults();
    aws.counters.reset();
  });
  afterAll(async () => {
    await aws.close();
  });

  async function generateWith(token: string, roleArn = ROLE_ARN) {
    const kms = sessionKms(aws, token, undefined, 3, roleArn);
    try {
      return await kms.send(
        new GenerateDataKeyCommand({
          KeyId: VAULT_KEY_ID,
          KeySpec: "AES_256",
          EncryptionContext: userContext("user-a"),
        }),
      );
    } catch (error) {
      return error as Error;
    } finally {
      kms.destroy();
    }
  }

  it("issues session credentials carrying the token's userId tag, one STS request per session", async () => {
    const kms = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    for (let i = 0; i < 3; i += 1) {
      await kms.send(
        new GenerateDataKeyCommand({
          KeyId: VAULT_KEY_ID,
          KeySpec: "AES_256",
          EncryptionContext: userContext("user-a"),
        }),
      );
    }
    kms.destroy();
    expect(aws.counters.count({ service: "sts" })).toBe(1);
    expect(
      aws.counters.count({ service: "kms", principal: ROLE_ARN, tags: { userId: "user-a" } }),
    ).toBe(3);
    const session = aws.sessions().at(-1);
    expect(session).toMatchObject({
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/vault-user-session/vault-session`,
      roleArn: ROLE_ARN,
      tags: { userId: "user-a" },
    });
    expect((session?.expiresAt.getTime() ?? 0) - Date.now()).toBeGreaterThan(800_000);
  });

  it.each([
    [
      "an expired token",
      async () => idp.mintToken({ sub: "user-a", userId: "user-a", expiresIn: -120 }),
      "ExpiredTokenException",
      "ExpiredTokenException",
    ],
    [
      "a token for another audience",
      async () => idp.mintToken({ sub: "user-a", userId: "user-a", audience: "someone-else" }),
      "InvalidIdentityToken",
      "InvalidIdentityTokenException",
    ],
    [
      "a token from an unknown issuer",
      async () => otherIdp.mintToken({ sub: "user-a", userId: "user-a" }),
      "InvalidIdentityToken",
      "InvalidIdentityTokenException",
    ],
    [
      "a token signed by another key under our issuer",
      async () => impostor.mintToken({ sub: "user-a", userId: "user-a" }),
      "InvalidIdentityToken",
      "InvalidIdentityTokenException",
    ],
    [
      "an HS256 (shared-secret) token",
      async () =>
        new SignJWT({ sub: "user-a" })
          .setProtectedHeader({ alg: "HS256", kid: "test-es256" })
          .setIssuer(idp.issuer)
          .setAudience(idp.audience)
          .setExpirationTime("5m")
          .sign(new TextEncoder().encode("k".repeat(32))),
      "InvalidIdentityToken",
      "InvalidIdentityTokenException",
    ],
    [
      "a tag value outside the AWS tag charset",
      async () => idp.mintToken({ sub: "auth0|a", userId: "auth0|a" }),
      "InvalidIdentityToken",
      "InvalidIdentityTokenException",
    ],
    ["garbage", async () => "not-a-jwt", "InvalidIdentityToken", "InvalidIdentityTokenException"],
  ])("rejects %s (wire code %s, SDK err.name %s)", async (_what, mint, code, name) => {
    const result = await generateWith(await mint());
    // The SDK maps the Query-protocol code onto the modeled error class name (awsQueryError trait).
    expect((result as Error).name).toBe(name);
    expect(
      aws.counters.count({
        service: "sts",
        operation: "AssumeRoleWithWebIdentity",
        errorCode: code,
      }),
    ).toBe(1);
    expect(aws.counters.count({ service: "kms" })).toBe(0);
  });

  it("checks the role exists and its trust policy conditions (sub pinned) → AccessDenied (403)", async () => {
    const userB = await idp.mintToken({ sub: "user-b", userId: "user-b" });
    const denied = await generateWith(userB, SUB_PINNED_ROLE);
    expect((denied as Error).name).toBe("AccessDenied");
    const missingRole = await generateWith(userB, `arn:aws:iam::${ACCOUNT}:role/does-not-exist`);
    expect((missingRole as Error).name).toBe("AccessDenied");
    expect(
      aws.counters.count({ service: "sts", errorCode: "AccessDenied", outcome: "error" }),
    ).toBe(2);
    expect(
      aws.counters.records().every((r) => r.errorCode !== "AccessDenied" || r.status === 403),
    ).toBe(true);
  });

  it("STS throttling is retried by the credential provider's STS client", async () => {
    aws.inject({ kind: "throttling", service: "sts", operation: "AssumeRoleWithWebIdentity" });
    const result = await generateWith(await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    expect(result).not.toBeInstanceOf(Error);
    expect(aws.counters.count({ service: "sts", errorCode: "Throttling" })).toBe(1);
    expect(aws.counters.count({ service: "sts", outcome: "ok" })).toBe(1);
  });

  it("expired session credentials are refused by KMS with ExpiredTokenException", async () => {
    const kms = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const generated = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    expect(aws.expireSessions({ tags: { userId: "user-a" } })).toBeGreaterThan(0);
    const error = await kms
      .send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: userContext("user-a"),
        }),
      )
      .catch((e: unknown) => e as Error);
    expect((error as Error).name).toBe("ExpiredTokenException");
    kms.destroy();
  });

  it("signed STS actions require SigV4: an unsigned GetCallerIdentity gets a 403 XML error", async () => {
    const response = await fetch(aws.stsEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>MissingAuthenticationToken</Code>");
  });

  it("a token carrying session tags needs sts:TagSession in the trust policy", async () => {
    const tagged = await generateWith(
      await idp.mintToken({ sub: "bot", userId: "bot" }),
      NO_TAG_SESSION_ROLE,
    );
    expect((tagged as Error).name).toBe("AccessDenied");
    const untagged = await generateWith(await idp.mintToken({ sub: "bot" }), NO_TAG_SESSION_ROLE);
    // STS issues the session; the key policy (no Allow for this role) then refuses it at KMS.
    expect((untagged as Error).name).toBe("AccessDeniedException");
    expect(aws.counters.count({ service: "sts", outcome: "ok" })).toBe(1);
    expect(aws.counters.count({ service: "sts", errorCode: "AccessDenied" })).toBe(1);
  });
});
