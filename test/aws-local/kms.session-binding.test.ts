import { DecryptCommand, GenerateDataKeyCommand, ReEncryptCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../support/aws-local/index.js";
import {
  adminKms,
  PRINCIPAL_USER_ID,
  ROLE_ARN,
  sessionKms,
  trustPolicy,
  userContext,
  VAULT_KEY_ID,
  vaultKeyPolicy,
} from "./fixtures.js";

describe("aws-local: KMS decrypt bound to the caller's web identity session (kms.md §2)", () => {
  let idp: TestIdentityProvider;
  let aws: AwsLocal;

  beforeAll(async () => {
    idp = await createTestIdentityProvider();
    aws = await startAwsLocal({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
      roles: [{ arn: ROLE_ARN, trustPolicy: trustPolicy(idp) }],
      keys: [{ keyId: VAULT_KEY_ID, policy: vaultKeyPolicy() }],
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  it("user A's session generates and decrypts A's data key; B's session is denied at the KMS layer", async () => {
    const kmsA = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const kmsB = sessionKms(aws, await idp.mintToken({ sub: "user-b", userId: "user-b" }));
    const generated = await kmsA.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    expect(generated.Plaintext?.length).toBe(32);
    expect(generated.KeyId).toBe(aws.keyArn(VAULT_KEY_ID));

    const opened = await kmsA.send(
      new DecryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        EncryptionContext: userContext("user-a"),
      }),
    );
    expect(
      Buffer.from(opened.Plaintext as Uint8Array).equals(
        Buffer.from(generated.Plaintext as Uint8Array),
      ),
    ).toBe(true);

    // B presents A's context: the key policy requires context userId == B's session tag.
    const denied = await kmsB
      .send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: userContext("user-a"),
        }),
      )
      .catch((e: unknown) => e);
    expect((denied as Error).name).toBe("AccessDeniedException");
    // B presents its own context: passes policy, fails the AAD check like real KMS.
    const wrongContext = await kmsB
      .send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: userContext("user-b"),
        }),
      )
      .catch((e: unknown) => e);
    expect((wrongContext as Error).name).toBe("InvalidCiphertextException");

    expect(
      aws.counters.count({
        service: "kms",
        operation: "Decrypt",
        tags: { userId: "user-b" },
        errorCode: "AccessDeniedException",
      }),
    ).toBe(1);
    expect(
      aws.counters.count({
        service: "sts",
        operation: "AssumeRoleWithWebIdentity",
        tags: { userId: "user-a" },
      }),
    ).toBe(1);
    kmsA.destroy();
    kmsB.destroy();
  });

  it("counts exactly under concurrency: 40 parallel opens on a fresh session → 1 STS, 40 Decrypt", async () => {
    const seed = sessionKms(aws, await idp.mintToken({ sub: "user-c", userId: "user-c" }));
    const generated = await seed.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-c"),
      }),
    );
    seed.destroy();
    aws.counters.reset();
    const kms = sessionKms(aws, await idp.mintToken({ sub: "user-c", userId: "user-c" }));
    const opened = await Promise.all(
      Array.from({ length: 40 }, () =>
        kms.send(
          new DecryptCommand({
            CiphertextBlob: generated.CiphertextBlob,
            EncryptionContext: userContext("user-c"),
          }),
        ),
      ),
    );
    expect(
      opened.every((o) =>
        Buffer.from(o.Plaintext as Uint8Array).equals(
          Buffer.from(generated.Plaintext as Uint8Array),
        ),
      ),
    ).toBe(true);
    expect(aws.counters.count({ service: "sts", tags: { userId: "user-c" } })).toBe(1);
    expect(
      aws.counters.count({
        service: "kms",
        operation: "Decrypt",
        tags: { userId: "user-c" },
        outcome: "ok",
      }),
    ).toBe(40);
    expect(aws.counters.count()).toBe(41);
    kms.destroy();
  });

  it("the operator's static credentials cannot decrypt a user's data key (explicit deny)", async () => {
    const kmsA = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const generated = await kmsA.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    const admin = adminKms(aws);
    const error = await admin
      .send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: userContext("user-a"),
        }),
      )
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe("AccessDeniedException");
    expect((error as Error).message).toContain("explicit deny");
    const reEncrypt = await admin
      .send(
        new ReEncryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          SourceEncryptionContext: userContext("user-a"),
          DestinationKeyId: VAULT_KEY_ID,
        }),
      )
      .catch((e: unknown) => e);
    expect((reEncrypt as Error).name).toBe("AccessDeniedException");
    kmsA.destroy();
    admin.destroy();
  });

  it("a role IAM policy granting kms:Decrypt lets B open A's data key through the root statement unless a context Deny closes it", async () => {
    // kms.md §2.2 (c) with the usual root (IAM delegation) statement: the role's own IAM policy
    // becomes enough to decrypt any user's data key. The Deny below restores the binding.
    const roleMayUseKms = {
      Version: "2012-10-17",
      Statement: { Effect: "Allow", Action: "kms:*", Resource: "*" },
    };
    const exposed = await startAwsLocal({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
      roles: [{ arn: ROLE_ARN, trustPolicy: trustPolicy(idp) }],
      keys: [{ keyId: VAULT_KEY_ID, policy: vaultKeyPolicy() }],
      identityPolicies: { [ROLE_ARN]: roleMayUseKms },
    });
    try {
      const kmsA = sessionKms(exposed, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
      const kmsB = sessionKms(exposed, await idp.mintToken({ sub: "user-b", userId: "user-b" }));
      const generated = await kmsA.send(
        new GenerateDataKeyCommand({
          KeyId: VAULT_KEY_ID,
          KeySpec: "AES_256",
          EncryptionContext: userContext("user-a"),
        }),
      );
      const decryptAsB = () =>
        kmsB
          .send(
            new DecryptCommand({
              CiphertextBlob: generated.CiphertextBlob,
              EncryptionContext: userContext("user-a"),
            }),
          )
          .then(
            () => "decrypted",
            (e: unknown) => (e as Error).name,
          );
      expect(await decryptAsB()).toBe("decrypted");

      const policy = vaultKeyPolicy() as { Statement: unknown[] };
      exposed.setKeyPolicy(VAULT_KEY_ID, {
        ...policy,
        Statement: [
          ...policy.Statement,
          {
            Sid: "DenyOtherUsersContext",
            Effect: "Deny",
            Principal: "*",
            Action: ["kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            Resource: "*",
            Condition: {
              StringNotEquals: { "kms:EncryptionContext:userId": PRINCIPAL_USER_ID },
            },
          },
        ],
      });
      expect(await decryptAsB()).toBe("AccessDeniedException");
      const ownAsA = await kmsA.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: userContext("user-a"),
        }),
      );
      expect(ownAsA.Plaintext?.length).toBe(32);
      kmsA.destroy();
      kmsB.destroy();
    } finally {
      await exposed.close();
    }
  });
});
