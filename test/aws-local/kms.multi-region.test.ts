import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
} from "@aws-sdk/client-kms";
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
  vaultKeyPolicy,
} from "./fixtures.js";

const MRK = "mrk-1234abcd12ab34cd56ef1234567890ab";
const VAULT_MRK = "mrk-0000abcd12ab34cd56ef1234567890ab";
const US = "us-east-1";
const EU = "eu-west-1";

describe("aws-local multi-Region keys (region taken from the SigV4 scope)", () => {
  let aws: AwsLocal;
  let idp: TestIdentityProvider;

  beforeAll(async () => {
    idp = await createTestIdentityProvider();
    aws = await startAwsLocal({
      regions: [US, EU],
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
      roles: [{ arn: ROLE_ARN, trustPolicy: trustPolicy(idp) }],
      keys: [
        { keyId: MRK, multiRegion: true, policy: adminKeyPolicy() },
        { keyId: VAULT_MRK, multiRegion: true, policy: vaultKeyPolicy() },
        { keyId: ADMIN_KEY_ID, policy: adminKeyPolicy() },
      ],
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  it("a ciphertext made under the us-east-1 replica decrypts in eu-west-1 (shared key material)", async () => {
    const us = adminKms(aws, US);
    const eu = adminKms(aws, EU);
    const { CiphertextBlob, KeyId } = await us.send(
      new EncryptCommand({ KeyId: MRK, Plaintext: Buffer.from("near the exchange") }),
    );
    expect(KeyId).toBe(aws.keyArn(MRK, US));
    const opened = await eu.send(new DecryptCommand({ CiphertextBlob }));
    expect(Buffer.from(opened.Plaintext as Uint8Array).toString()).toBe("near the exchange");
    expect(opened.KeyId).toBe(`arn:aws:kms:${EU}:${aws.accountId}:key/${MRK}`);
    const { KeyMetadata } = await eu.send(new DescribeKeyCommand({ KeyId: MRK }));
    expect(KeyMetadata?.MultiRegion).toBe(true);
    expect(KeyMetadata?.MultiRegionConfiguration?.MultiRegionKeyType).toBe("REPLICA");
    expect(aws.counters.count({ region: EU, operation: "Decrypt" })).toBe(1);
    us.destroy();
    eu.destroy();
  });

  it("a single-Region key is not found in another region, and its ciphertexts do not decrypt there", async () => {
    const us = adminKms(aws, US);
    const eu = adminKms(aws, EU);
    const { CiphertextBlob } = await us.send(
      new EncryptCommand({ KeyId: ADMIN_KEY_ID, Plaintext: Buffer.from("x") }),
    );
    const notFound = await eu
      .send(new EncryptCommand({ KeyId: ADMIN_KEY_ID, Plaintext: Buffer.from("x") }))
      .catch((e: unknown) => e as Error);
    expect((notFound as Error).name).toBe("NotFoundException");
    const foreign = await eu
      .send(new DecryptCommand({ CiphertextBlob }))
      .catch((e: unknown) => e as Error);
    expect((foreign as Error).name).toBe("InvalidCiphertextException");
    const wrongRegionArn = await eu
      .send(new EncryptCommand({ KeyId: aws.keyArn(MRK, US), Plaintext: Buffer.from("x") }))
      .catch((e: unknown) => e as Error);
    expect((wrongRegionArn as Error).name).toBe("NotFoundException");
    us.destroy();
    eu.destroy();
  });

  it("key state is per replica", async () => {
    aws.setKeyState(MRK, "Disabled", EU);
    const us = adminKms(aws, US);
    const eu = adminKms(aws, EU);
    await expect(
      us.send(new GenerateDataKeyCommand({ KeyId: MRK, KeySpec: "AES_256" })),
    ).resolves.toBeDefined();
    const disabled = await eu
      .send(new GenerateDataKeyCommand({ KeyId: MRK, KeySpec: "AES_256" }))
      .catch((e: unknown) => e as Error);
    expect((disabled as Error).name).toBe("DisabledException");
    aws.setKeyState(MRK, "Enabled");
    us.destroy();
    eu.destroy();
  });

  it("a user session in eu-west-1 unwraps a data key generated in us-east-1 under the same policy", async () => {
    const token = await idp.mintToken({ sub: "user-a", userId: "user-a" });
    const us = sessionKms(aws, token, US);
    const eu = sessionKms(aws, token, EU);
    const generated = await us.send(
      new GenerateDataKeyCommand({
        KeyId: VAULT_MRK,
        KeySpec: "AES_256",
        EncryptionContext: userContext("user-a"),
      }),
    );
    const opened = await eu.send(
      new DecryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        EncryptionContext: userContext("user-a"),
      }),
    );
    expect(Buffer.from(opened.Plaintext as Uint8Array)).toEqual(
      Buffer.from(generated.Plaintext as Uint8Array),
    );
    expect(aws.counters.count({ service: "sts", tags: { userId: "user-a" } })).toBe(2);
    us.destroy();
    eu.destroy();
  });

  it("a region the server does not serve is refused in the SigV4 scope", async () => {
    const elsewhere = adminKms(aws, "ap-south-1", 1);
    const error = await elsewhere
      .send(new EncryptCommand({ KeyId: MRK, Plaintext: Buffer.from("x") }))
      .catch((e: unknown) => e as Error);
    expect((error as Error).name).toBe("InvalidSignatureException");
    elsewhere.destroy();
  });
});
