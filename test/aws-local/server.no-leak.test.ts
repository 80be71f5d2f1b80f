import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand } from "@aws-sdk/client-kms";
import { fromWebToken } from "@aws-sdk/credential-providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../support/aws-local/index.js";
import {
  ADMIN_KEY_ID,
  adminKeyPolicy,
  adminKms,
  ROLE_ARN,
  sessionKms,
  trustPolicy,
  userContext,
  VAULT_KEY_ID,
  vaultKeyPolicy,
} from "./fixtures.js";

describe("aws-local never echoes plaintext, data keys or session secrets", () => {
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
        { keyId: ADMIN_KEY_ID, policy: adminKeyPolicy() },
      ],
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  it("a canary plaintext and data key appear in no error, counter record or session listing", async () => {
    const canary = `CANARY-${randomBytes(12).toString("hex")}`;
    const admin = adminKms(aws);
    const token = await idp.mintToken({ sub: "user-a", userId: "user-a" });
    const userA = sessionKms(aws, token);
    const userB = sessionKms(aws, await idp.mintToken({ sub: "user-b", userId: "user-b" }));
    const { CiphertextBlob } = await admin.send(
      new EncryptCommand({
        KeyId: ADMIN_KEY_ID,
        Plaintext: Buffer.from(canary),
        EncryptionContext: { c: "1" },
      }),
    );
    const dataKey = await userA.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    const tampered = Buffer.from(CiphertextBlob as Uint8Array);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    const errors = await Promise.all([
      admin
        .send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { c: "2" } }))
        .catch((e: unknown) => e),
      admin
        .send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { c: "1" } }))
        .catch((e: unknown) => e),
      userB
        .send(
          new DecryptCommand({
            CiphertextBlob: dataKey.CiphertextBlob,
            EncryptionContext: userContext("user-a"),
          }),
        )
        .catch((e: unknown) => e),
      admin
        .send(
          new DecryptCommand({
            CiphertextBlob: dataKey.CiphertextBlob,
            EncryptionContext: userContext("user-a"),
          }),
        )
        .catch((e: unknown) => e),
    ]);
    expect(errors.map((e) => (e as Error).name)).toEqual([
      "InvalidCiphertextException",
      "InvalidCiphertextException",
      "AccessDeniedException",
      "AccessDeniedException",
    ]);

    const credentials = await fromWebToken({
      roleArn: ROLE_ARN,
      webIdentityToken: token,
      roleSessionName: "leak-check",
      clientConfig: { region: "us-east-1", endpoint: aws.stsEndpoint },
    })();
    const secrets = [
      canary,
      Buffer.from(canary).toString("base64"),
      Buffer.from(dataKey.Plaintext as Uint8Array).toString("base64"),
      Buffer.from(dataKey.Plaintext as Uint8Array).toString("hex"),
      credentials.secretAccessKey,
      credentials.sessionToken as string,
      token,
    ];
    const surfaces = [
      ...errors.flatMap((e) => [
        (e as Error).message,
        (e as Error).stack ?? "",
        JSON.stringify(e),
        inspect(e, { depth: 5 }),
      ]),
      JSON.stringify(aws.counters.records()),
      inspect(aws.counters.records(), { depth: 5 }),
      JSON.stringify(aws.sessions()),
      inspect(aws.sessions(), { depth: 5 }),
    ];
    for (const secret of secrets) {
      for (const surface of surfaces) expect(surface.includes(secret)).toBe(false);
    }
    admin.destroy();
    userA.destroy();
    userB.destroy();
  });
});
