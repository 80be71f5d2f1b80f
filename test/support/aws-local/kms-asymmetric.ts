/** KMS key metadata and ECC signing operations: DescribeKey, GetPublicKey, Sign, Verify. */
import { AwsServiceError } from "./aws-error.js";
import type { ContextValue } from "./conditions.js";
import {
  authorize,
  type KmsCall,
  preflight,
  requireEnabled,
  requireUsage,
  resolveKey,
} from "./kms.js";
import { optionalEnum, requiredBlob, requiredString } from "./kms-input.js";

function describeKey(call: KmsCall): Record<string, unknown> {
  const { key } = resolveKey(call, requiredString(call.input, "KeyId"));
  authorize(call, key, "DescribeKey", new Map());
  const { region, env } = call;
  const state = key.replicas.get(region)?.state ?? "Unavailable";
  const symmetric = key.spec === "SYMMETRIC_DEFAULT";
  const primaryRegion = [...key.replicas.keys()][0] as string;
  return {
    KeyMetadata: {
      AWSAccountId: env.accountId,
      KeyId: key.id,
      Arn: key.arn(region, env.accountId),
      CreationDate: Math.floor(key.createdAt.getTime() / 1000),
      Enabled: state === "Enabled",
      Description: key.description,
      KeyUsage: key.usage,
      KeyState: state,
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      ...(symmetric
        ? { EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"] }
        : { SigningAlgorithms: [key.signingAlgorithm] }),
      MultiRegion: key.multiRegion,
      ...(key.multiRegion
        ? {
            MultiRegionConfiguration: {
              MultiRegionKeyType: region === primaryRegion ? "PRIMARY" : "REPLICA",
              PrimaryKey: { Arn: key.arn(primaryRegion, env.accountId), Region: primaryRegion },
              ReplicaKeys: [...key.replicas.keys()]
                .filter((r) => r !== primaryRegion)
                .map((r) => ({ Arn: key.arn(r, env.accountId), Region: r })),
            },
          }
        : {}),
    },
  };
}

function signingKey(call: KmsCall, action: "Sign" | "Verify" | "GetPublicKey") {
  preflight(call);
  const { key } = resolveKey(call, requiredString(call.input, "KeyId"));
  const arn = key.arn(call.region, call.env.accountId);
  const extra = new Map<string, ContextValue>();
  let messageType: "RAW" | "DIGEST" = "RAW";
  let message: Buffer | undefined;
  if (action !== "GetPublicKey") {
    message = requiredBlob(call.input, "Message", 4096);
    messageType = optionalEnum(call.input, "MessageType", ["RAW", "DIGEST"] as const) ?? "RAW";
    const algorithm = requiredString(call.input, "SigningAlgorithm");
    extra.set("kms:signingalgorithm", { multi: false, values: [algorithm] });
    extra.set("kms:messagetype", { multi: false, values: [messageType] });
    if (key.usage === "SIGN_VERIFY" && algorithm !== key.signingAlgorithm) {
      throw new AwsServiceError(
        "InvalidKeyUsageException",
        400,
        `Algorithm ${algorithm} is incompatible with key spec ${key.spec}.`,
      );
    }
  }
  authorize(call, key, action, extra);
  requireEnabled(call, key);
  requireUsage(key, "SIGN_VERIFY", arn);
  if (message !== undefined && messageType === "DIGEST" && message.length !== key.digestLength) {
    throw new AwsServiceError(
      "ValidationException",
      400,
      `Digest must be ${key.digestLength} bytes for ${key.signingAlgorithm}.`,
    );
  }
  return { key, arn, message: message ?? Buffer.alloc(0), messageType };
}

function getPublicKey(call: KmsCall): Record<string, unknown> {
  const { key, arn } = signingKey(call, "GetPublicKey");
  return {
    KeyId: arn,
    PublicKey: key.publicKeyDer().toString("base64"),
    CustomerMasterKeySpec: key.spec,
    KeySpec: key.spec,
    KeyUsage: key.usage,
    SigningAlgorithms: [key.signingAlgorithm],
  };
}

function sign(call: KmsCall): Record<string, unknown> {
  const { key, arn, message, messageType } = signingKey(call, "Sign");
  return {
    KeyId: arn,
    Signature: key.sign(message, messageType).toString("base64"),
    SigningAlgorithm: key.signingAlgorithm,
  };
}

function verify(call: KmsCall): Record<string, unknown> {
  const signature = requiredBlob(call.input, "Signature", 6144);
  const { key, arn, message, messageType } = signingKey(call, "Verify");
  if (!key.verify(message, signature, messageType)) {
    throw new AwsServiceError("KMSInvalidSignatureException", 400, "");
  }
  return { KeyId: arn, SignatureValid: true, SigningAlgorithm: key.signingAlgorithm };
}

/** Metadata and signing operations, by `X-Amz-Target` suffix. */
export const asymmetricOperations: Readonly<
  Record<string, (call: KmsCall) => Record<string, unknown>>
> = {
  DescribeKey: describeKey,
  GetPublicKey: getPublicKey,
  Sign: sign,
  Verify: verify,
};
