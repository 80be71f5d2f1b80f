import {
  CancelKeyDeletionCommand,
  DecryptCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  PutKeyPolicyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../support/aws-local/index.js";
import {
  adminKms,
  ROLE_ARN,
  sessionKms,
  trustPolicy,
  userContext,
  VAULT_KEY_ID,
  vaultKeyPolicy,
} from "./fixtures.js";

const errorName = (e: unknown) => (e as Error).name;

describe("aws-local key administration over the wire (operator manages, cannot use)", () => {
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

  it("the operator can disable, schedule deletion and cancel it; users see DisabledException / KMSInvalidStateException", async () => {
    const operator = adminKms(aws);
    const user = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const { CiphertextBlob } = await user.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    const open = () =>
      user
        .send(new DecryptCommand({ CiphertextBlob, EncryptionContext: userContext("user-a") }))
        .then(() => "ok", errorName);

    await operator.send(new DisableKeyCommand({ KeyId: VAULT_KEY_ID }));
    expect(await open()).toBe("DisabledException");
    await operator.send(new EnableKeyCommand({ KeyId: VAULT_KEY_ID }));
    expect(await open()).toBe("ok");
    const scheduled = await operator.send(
      new ScheduleKeyDeletionCommand({ KeyId: VAULT_KEY_ID, PendingWindowInDays: 7 }),
    );
    expect(scheduled.KeyState).toBe("PendingDeletion");
    expect((scheduled.DeletionDate?.getTime() ?? 0) - Date.now()).toBeGreaterThan(6 * 86_400_000);
    expect(await open()).toBe("KMSInvalidStateException");
    expect(
      await operator
        .send(new EnableKeyCommand({ KeyId: VAULT_KEY_ID }))
        .then(() => "ok", errorName),
    ).toBe("KMSInvalidStateException");
    await operator.send(new CancelKeyDeletionCommand({ KeyId: VAULT_KEY_ID }));
    expect(await open()).toBe("DisabledException");
    await operator.send(new EnableKeyCommand({ KeyId: VAULT_KEY_ID }));
    expect(await open()).toBe("ok");
    operator.destroy();
    user.destroy();
  });

  it("the operator decrypts a user's data key only after a PutKeyPolicy (visible) removes the Deny", async () => {
    const operator = adminKms(aws);
    const user = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const { CiphertextBlob } = await user.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    const steal = () =>
      operator
        .send(new DecryptCommand({ CiphertextBlob, EncryptionContext: userContext("user-a") }))
        .then(() => "decrypted", errorName);
    expect(await steal()).toBe("AccessDeniedException");

    const { Policy } = await operator.send(
      new GetKeyPolicyCommand({ KeyId: VAULT_KEY_ID, PolicyName: "default" }),
    );
    const document = JSON.parse(Policy as string) as { Statement: Array<{ Effect: string }> };
    expect(document).toEqual(vaultKeyPolicy());
    const malformed = await operator
      .send(new PutKeyPolicyCommand({ KeyId: VAULT_KEY_ID, Policy: "{ not json" }))
      .then(() => "ok", errorName);
    expect(malformed).toBe("MalformedPolicyDocumentException");
    const badOperator = JSON.stringify({
      ...document,
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "kms:*", Condition: { Bogus: { a: "b" } } },
      ],
    });
    expect(
      await operator
        .send(new PutKeyPolicyCommand({ KeyId: VAULT_KEY_ID, Policy: badOperator }))
        .then(() => "ok", errorName),
    ).toBe("MalformedPolicyDocumentException");

    const withoutDenies = {
      ...document,
      Statement: document.Statement.filter((s) => s.Effect !== "Deny"),
    };
    await operator.send(
      new PutKeyPolicyCommand({ KeyId: VAULT_KEY_ID, Policy: JSON.stringify(withoutDenies) }),
    );
    expect(await steal()).toBe("decrypted");
    expect(
      aws.counters.count({
        operation: "PutKeyPolicy",
        principal: aws.adminCredentials.userArn,
        outcome: "ok",
      }),
    ).toBe(1);
    aws.setKeyPolicy(VAULT_KEY_ID, vaultKeyPolicy());
    expect(await steal()).toBe("AccessDeniedException");
    operator.destroy();
    user.destroy();
  });

  it("a user session cannot administer the key (no Allow for admin actions)", async () => {
    const user = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    expect(
      await user.send(new DisableKeyCommand({ KeyId: VAULT_KEY_ID })).then(() => "ok", errorName),
    ).toBe("AccessDeniedException");
    expect(
      await user
        .send(
          new PutKeyPolicyCommand({
            KeyId: VAULT_KEY_ID,
            Policy: JSON.stringify(vaultKeyPolicy()),
          }),
        )
        .then(() => "ok", errorName),
    ).toBe("AccessDeniedException");
    user.destroy();
  });

  it("key rotation: status toggles, on-demand rotation keeps earlier data keys decryptable", async () => {
    const operator = adminKms(aws);
    const user = sessionKms(aws, await idp.mintToken({ sub: "user-a", userId: "user-a" }));
    const before = await user.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    expect(
      (await operator.send(new GetKeyRotationStatusCommand({ KeyId: VAULT_KEY_ID })))
        .KeyRotationEnabled,
    ).toBe(false);
    await operator.send(
      new EnableKeyRotationCommand({ KeyId: VAULT_KEY_ID, RotationPeriodInDays: 90 }),
    );
    const status = await operator.send(new GetKeyRotationStatusCommand({ KeyId: VAULT_KEY_ID }));
    expect([status.KeyRotationEnabled, status.RotationPeriodInDays]).toEqual([true, 90]);
    await operator.send(new RotateKeyOnDemandCommand({ KeyId: VAULT_KEY_ID }));
    const after = await user.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    for (const generated of [before, after]) {
      const opened = await user.send(
        new DecryptCommand({
          CiphertextBlob: generated.CiphertextBlob,
          EncryptionContext: userContext("user-a"),
        }),
      );
      expect(Buffer.from(opened.Plaintext as Uint8Array)).toEqual(
        Buffer.from(generated.Plaintext as Uint8Array),
      );
    }
    await operator.send(new DisableKeyRotationCommand({ KeyId: VAULT_KEY_ID }));
    expect(
      (await operator.send(new GetKeyRotationStatusCommand({ KeyId: VAULT_KEY_ID })))
        .KeyRotationEnabled,
    ).toBe(false);
    operator.destroy();
    user.destroy();
  });
});
