/** Validation of KMS JSON request fields (AWS JSON 1.1 shapes); failures are ValidationException. */
import { AwsServiceError } from "./aws-error.js";

export type KmsInput = Readonly<Record<string, unknown>>;

function invalid(message: string): AwsServiceError {
  return new AwsServiceError("ValidationException", 400, message);
}

/** Optional string field with length bounds. */
export function optionalString(input: KmsInput, name: string, max = 2048): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length < 1 || value.length > max) {
    throw invalid(`1 validation error detected: Value at '${name}' failed to satisfy constraint.`);
  }
  return value;
}

export function requiredString(input: KmsInput, name: string, max = 2048): string {
  const value = optionalString(input, name, max);
  if (value === undefined) {
    throw invalid(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Blob field (standard base64), decoded, with byte-length bounds. */
export function optionalBlob(input: KmsInput, name: string, maxBytes: number): Buffer | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !BASE64.test(value)) {
    throw new AwsServiceError(
      "SerializationException",
      400,
      `Field '${name}' is not valid base64.`,
    );
  }
  const bytes = Buffer.from(value, "base64");
  if (bytes.length < 1 || bytes.length > maxBytes) {
    throw invalid(
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length between 1 and ${maxBytes}`,
    );
  }
  return bytes;
}

export function requiredBlob(input: KmsInput, name: string, maxBytes: number): Buffer {
  const value = optionalBlob(input, name, maxBytes);
  if (value === undefined) {
    throw invalid(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** `EncryptionContext`-style string→string map (absent → empty). */
export function encryptionContext(input: KmsInput, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new AwsServiceError("SerializationException", 400, `Field '${name}' must be a map.`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string" || k.length === 0) {
      throw new AwsServiceError(
        "SerializationException",
        400,
        `Field '${name}' must map strings to strings.`,
      );
    }
    out[k] = v;
  }
  return out;
}

export function optionalInteger(
  input: KmsInput,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
  return value;
}

export function optionalEnum<T extends string>(
  input: KmsInput,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`,
    );
  }
  return value as T;
}

/** Fields this server does not model and refuses rather than silently ignores (fail closed). */
export function refuseUnsupported(input: KmsInput, names: readonly string[]): void {
  for (const name of names) {
    if (input[name] !== undefined && input[name] !== null) {
      throw new AwsServiceError(
        "UnsupportedOperationException",
        400,
        `aws-local does not support '${name}'.`,
      );
    }
  }
}
