import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../support/aws-local/index.js";
import {
  ACCOUNT,
  ADMIN_KEY_ID,
  adminKms,
  ROLE_ARN,
  sessionKms,
  trustPolicy,
  userContext,
  VAULT_KEY_ID,
  vaultKeyPolicy,
} from "./fixtures.js";

const OPERATOR = `arn:aws:iam::${ACCOUNT}:user/operator`;

function captureRequests(
  client: KMSClient,
): Array<{ headers: Record<string, string>; body: string }> {
  const captured: Array<{ headers: Record<string, string>; body: string }> = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as {
        headers: Record<string, string>;
        body: string | Uint8Array;
      };
      const raw = request.body;
      const body =
        typeof raw === "string"
          ? raw
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8");
      captured.push({ headers: { ...request.headers }, body });
      return next(args);
    },
    { step: "deserialize", name: "captureHeaders" },
  );
  return captured;
}

describe("aws-local KMS authorization order and invariants", () => {
  let idp: TestIdentityProvider;
  let aws: AwsLocal;

  beforeAll(async () => {
    idp = await createTestIdentityProvider();
    aws = await startAwsLocal({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
      roles: [{ arn: ROLE_ARN, trustPolicy: trustPolicy(idp) }],
      keys: [
        { keyId: VAULT_KEY_ID, policy: vaultKeyPolicy() },
        {
          keyId: ADMIN_KEY_ID,
          policy: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
                Action: "kms:*",
                Resource: "*",
              },
              {
                Effect: "Allow",
                Principal: { AWS: OPERATOR },
                Action: "kms:Decrypt",
                Resource: "*",
              },
            ],
          },
        },
      ],
      identityPolicies: {
        [OPERATOR]: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "*", Resource: "*" },
            { Effect: "Deny", Action: "kms:Decrypt", Resource: "*" },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  it("an explicit Deny in the key policy or an identity policy overrides every Allow", async () => {
    const admin = adminKms(aws);
    const { CiphertextBlob } = await admin.send(
      new EncryptCommand({ KeyId: ADMIN_KEY_ID, Plaintext: Buffer.from("x") }),
    );
    // The key policy allows the operator's Decrypt directly; its identity policy denies it.
    const error = await admin
      .send(new DecryptCommand({ CiphertextBlob }))
      .catch((e: unknown) => e as Error);
    expect((error as Error).name).toBe("AccessDeniedException");
    expect((error as Error).message).toContain("explicit deny");
    admin.destroy();
  });

  it("key-policy authorization runs before the key state and the ciphertext are examined", async () => {
    const kmsA = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const kmsB = sessionKms(aws, await idp.mintToken({ sub: "user-b", userId: "user-b" }));
    const generated = await kmsA.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    const blob = Buffer.from(generated.CiphertextBlob as Uint8Array);
    blob[blob.length - 1] = (blob[blob.length - 1] as number) ^ 1;
    aws.setKeyState(VAULT_KEY_ID, "Disabled");
    try {
      const asB = await kmsB
        .send(
          new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: userContext("user-a") }),
        )
        .catch((e: unknown) => e as Error);
      expect((asB as Error).name).toBe("AccessDeniedException");
      const asA = await kmsA
        .send(
          new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: userContext("user-a") }),
        )
        .catch((e: unknown) => e as Error);
      expect((asA as Error).name).toBe("DisabledException");
    } finally {
      aws.setKeyState(VAULT_KEY_ID, "Enabled");
    }
    const tampered = await kmsA
      .send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: userContext("user-a") }))
      .catch((e: unknown) => e as Error);
    expect((tampered as Error).name).toBe("InvalidCiphertextException");
    kmsA.destroy();
    kmsB.destroy();
  });

  it("a request is authenticated by its SigV4 signature before any fault or operation applies", async () => {
    const fault = aws.inject({ kind: "throttling", service: "kms" });
    const response = await fetch(aws.kmsEndpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "TrentService.GenerateDataKey",
      },
      body: JSON.stringify({ KeyId: VAULT_KEY_ID, KeySpec: "AES_256" }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { __type: string }).__type).toBe(
      "MissingAuthenticationTokenException",
    );
    expect(fault.remaining).toBe(1);
    fault.clear();
  });

  it("session credentials are accepted only with their own session token, compared in constant time", async () => {
    const kmsA = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const kmsB = sessionKms(aws, await idp.mintToken({ sub: "user-b", userId: "user-b" }));
    const requestsA = captureRequests(kmsA);
    const requestsB = captureRequests(kmsB);
    await kmsA.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    await kmsB.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-b"),
      }),
    );
    const { headers: a, body } = requestsA[0] as { headers: Record<string, string>; body: string };
    const b = (requestsB[0] as { headers: Record<string, string> }).headers;
    const send = (headers: Record<string, string>) =>
      fetch(aws.kmsEndpoint, {
        method: "POST",
        headers: Object.fromEntries(
          Object.entries(headers).filter(([k]) => k !== "host" && k !== "content-length"),
        ),
        body,
      }).then(async (r) => ((await r.json()) as { __type?: string }).__type ?? "ok");
    expect(await send(a)).toBe("ok");
    expect(await send({ ...a, "x-amz-security-token": b["x-amz-security-token"] as string })).toBe(
      "UnrecognizedClientException",
    );
    expect(await send({ ...a, "x-amz-security-token": `${a["x-amz-security-token"]}x` })).toBe(
      "UnrecognizedClientException",
    );
    const { "x-amz-security-token": _dropped, ...withoutToken } = a;
    expect(await send(withoutToken)).toBe("UnrecognizedClientException");
    kmsA.destroy();
    kmsB.destroy();
  });
});
