/**
 * Key administration over the wire: GetKeyPolicy, PutKeyPolicy, EnableKey, DisableKey,
 * ScheduleKeyDeletion, CancelKeyDeletion, Enable/DisableKeyRotation, GetKeyRotationStatus and
 * RotateKeyOnDemand. Each is authorized by the key policy like any other
 * KMS action, so tests can show that a key administrator can manage the key (visibly) but not use it.
 */
import { AwsServiceError } from "./aws-error.js";
import { authorize, type KmsCall, resolveKey } from "./kms.js";
import { optionalInteger, optionalString, requiredString } from "./kms-input.js";
import { setPolicy } from "./kms-keys.js";

function target(call: KmsCall, action: string) {
  const { key } = resolveKey(call, requiredString(call.input, "KeyId"));
  authorize(call, key, action, new Map());
  const replica = key.replicas.get(call.region);
  if (replica === undefined)
    throw new AwsServiceError("NotFoundException", 404, "Key does not exist");
  return { key, replica, arn: key.arn(call.region, call.env.accountId) };
}

function requireNotPendingDeletion(state: string, arn: string): void {
  if (state === "PendingDeletion") {
    throw new AwsServiceError("KMSInvalidStateException", 409, `${arn} is pending deletion.`);
  }
}

function getKeyPolicy(call: KmsCall): Record<string, unknown> {
  const name = optionalString(call.input, "PolicyName") ?? "default";
  if (name !== "default")
    throw new AwsServiceError("NotFoundException", 404, `No such policy: ${name}`);
  const { replica } = target(call, "GetKeyPolicy");
  return { Policy: replica.policyText, PolicyName: "default" };
}

function putKeyPolicy(call: KmsCall): Record<string, unknown> {
  const text = requiredString(call.input, "Policy", 32768);
  const { key, replica, arn } = target(call, "PutKeyPolicy");
  requireNotPendingDeletion(replica.state, arn);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new AwsServiceError(
      "MalformedPolicyDocumentException",
      400,
      "The policy is not valid JSON.",
    );
  }
  try {
    setPolicy(key, document as Record<string, unknown>, [call.region]);
  } catch (error) {
    throw new AwsServiceError("MalformedPolicyDocumentException", 400, (error as Error).message);
  }
  return {};
}

function setEnabled(call: KmsCall, enabled: boolean): Record<string, unknown> {
  const { replica, arn } = target(call, enabled ? "EnableKey" : "DisableKey");
  requireNotPendingDeletion(replica.state, arn);
  replica.state = enabled ? "Enabled" : "Disabled";
  return {};
}

function scheduleKeyDeletion(call: KmsCall): Record<string, unknown> {
  const days = optionalInteger(call.input, "PendingWindowInDays", 7, 30) ?? 30;
  const { replica, arn } = target(call, "ScheduleKeyDeletion");
  requireNotPendingDeletion(replica.state, arn);
  replica.state = "PendingDeletion";
  replica.deletionDateMs = call.env.now() + days * 86_400_000;
  return {
    KeyId: arn,
    DeletionDate: Math.floor(replica.deletionDateMs / 1000),
    KeyState: "PendingDeletion",
    PendingWindowInDays: days,
  };
}

function cancelKeyDeletion(call: KmsCall): Record<string, unknown> {
  const { replica, arn } = target(call, "CancelKeyDeletion");
  if (replica.state !== "PendingDeletion") {
    throw new AwsServiceError("KMSInvalidStateException", 409, `${arn} is not pending deletion.`);
  }
  replica.state = "Disabled";
  delete replica.deletionDateMs;
  return { KeyId: arn };
}

function symmetricTarget(call: KmsCall, action: string) {
  const found = target(call, action);
  if (found.key.spec !== "SYMMETRIC_DEFAULT") {
    throw new AwsServiceError(
      "UnsupportedOperationException",
      400,
      `${found.arn} does not support rotation.`,
    );
  }
  requireNotPendingDeletion(found.replica.state, found.arn);
  return found;
}

function enableKeyRotation(call: KmsCall): Record<string, unknown> {
  const days = optionalInteger(call.input, "RotationPeriodInDays", 90, 2560) ?? 365;
  symmetricTarget(call, "EnableKeyRotation").replica.rotationPeriodDays = days;
  return {};
}

function disableKeyRotation(call: KmsCall): Record<string, unknown> {
  delete symmetricTarget(call, "DisableKeyRotation").replica.rotationPeriodDays;
  return {};
}

function getKeyRotationStatus(call: KmsCall): Record<string, unknown> {
  const { replica, arn } = target(call, "GetKeyRotationStatus");
  const days = replica.rotationPeriodDays;
  return {
    KeyId: arn,
    KeyRotationEnabled: days !== undefined,
    ...(days !== undefined ? { RotationPeriodInDays: days } : {}),
  };
}

/** Rotates key material now; earlier ciphertexts keep decrypting (all replicas share material). */
function rotateKeyOnDemand(call: KmsCall): Record<string, unknown> {
  const { key, arn } = symmetricTarget(call, "RotateKeyOnDemand");
  key.rotate();
  return { KeyId: arn };
}

/** Key administration operations, by `X-Amz-Target` suffix. */
export const adminOperations: Readonly<Record<string, (call: KmsCall) => Record<string, unknown>>> =
  {
    GetKeyPolicy: getKeyPolicy,
    PutKeyPolicy: putKeyPolicy,
    EnableKey: (call) => setEnabled(call, true),
    DisableKey: (call) => setEnabled(call, false),
    ScheduleKeyDeletion: scheduleKeyDeletion,
    CancelKeyDeletion: cancelKeyDeletion,
    EnableKeyRotation: enableKeyRotation,
    DisableKeyRotation: disableKeyRotation,
    GetKeyRotationStatus: getKeyRotationStatus,
    RotateKeyOnDemand: rotateKeyOnDemand,
  };
