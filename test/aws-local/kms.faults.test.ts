import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AwsLocal, startAwsLocal } from "../support/aws-local/index.js";
import { ADMIN_KEY_ID, adminKeyPolicy, adminKms } from "./fixtures.js";

type SdkError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number } };

describe("aws-local fault injection and key states, observed through the real KMSClient", () => {
  let aws: AwsLocal;
  let kms: KMSClient;
  let blob: Uint8Array;

  beforeAll(async () => {
    aws = await startAwsLocal({ keys: [{ keyId: ADMIN_KEY_ID, policy: adminKeyPolicy() }] });
    kms = adminKms(aws);
    blob = (
      await kms.send(new EncryptCommand({ KeyId: ADMIN_KEY_ID, Plaintext: Buffer.from("x") }))
    ).CiphertextBlob as Uint8Array;
  });
  afterEach(() => {
    aws.clearFaults();
    aws.setKeyState(ADMIN_KEY_ID, "Enabled");
    aws.counters.reset();
  });
  afterAll(async () => {
    kms.destroy();
    await aws.close();
  });

  const decrypt = (client = kms) =>
    client.send(new DecryptCommand({ CiphertextBlob: blob })).catch((e: unknown) => e as SdkError);

  it("two throttles then success: the SDK retries and the counters see three Decrypt requests", async () => {
    const fault = aws.inject({
      kind: "throttling",
      service: "kms",
      operation: "Decrypt",
      times: 2,
    });
    const out = await decrypt();
    expect(out).not.toBeInstanceOf(Error);
    expect(fault.fired).toBe(2);
    expect(aws.counters.count({ operation: "Decrypt" })).toBe(3);
    expect(
      aws.counters.count({
        operation: "Decrypt",
        errorCode: "ThrottlingException",
        region: "us-east-1",
      }),
    ).toBe(2);
  });

  it("persistent throttling: the SDK gives up after maxAttempts with err.name ThrottlingException", async () => {
    aws.inject({ kind: "throttling", operation: "Decrypt", times: Number.POSITIVE_INFINITY });
    const error = (await decrypt()) as SdkError;
    expect(error.name).toBe("ThrottlingException");
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.$metadata?.attempts).toBe(3);
    expect(aws.counters.count({ operation: "Decrypt" })).toBe(3);
  });

  it.each([
    ["internal-error", "KMSInternalException", 500],
    ["key-unavailable", "KeyUnavailableException", 500],
    ["dependency-timeout", "DependencyTimeoutException", 503],
  ] as const)(
    "%s is retried (5xx) and surfaces as %s when it persists",
    async (kind, name, status) => {
      aws.inject({ kind, operation: "Decrypt" });
      expect(await decrypt()).not.toBeInstanceOf(Error);
      expect(aws.counters.count({ operation: "Decrypt" })).toBe(2);
      aws.inject({ kind, operation: "Decrypt", times: 3 });
      const error = (await decrypt()) as SdkError;
      expect([error.name, error.$metadata?.httpStatusCode]).toEqual([name, status]);
    },
  );

  it("a plain 503 and a connection reset are retried transparently", async () => {
    aws.inject({ kind: "service-unavailable", operation: "Decrypt" });
    aws.inject({ kind: "connection-reset", operation: "Decrypt" });
    expect(await decrypt()).not.toBeInstanceOf(Error);
    expect(aws.counters.count({ operation: "Decrypt" })).toBe(3);
  });

  it("latency delays the response without failing it", async () => {
    aws.inject({ kind: "latency", latencyMs: 150, operation: "Decrypt" });
    const started = performance.now();
    expect(await decrypt()).not.toBeInstanceOf(Error);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("faults are scoped to their operation and principal", async () => {
    aws.inject({ kind: "throttling", operation: "Encrypt", times: 5 });
    aws.inject({
      kind: "throttling",
      principal: "arn:aws:iam::111122223333:user/someone-else",
      times: 5,
    });
    expect(await decrypt()).not.toBeInstanceOf(Error);
    expect(aws.counters.count({ operation: "Decrypt" })).toBe(1);
  });

  it("Disabled key → DisabledException (409); PendingDeletion → KMSInvalidStateException (409)", async () => {
    aws.setKeyState(ADMIN_KEY_ID, "Disabled");
    const disabled = (await decrypt()) as SdkError;
    expect([disabled.name, disabled.$metadata?.httpStatusCode]).toEqual(["DisabledException", 409]);
    const generate = await kms
      .send(new GenerateDataKeyCommand({ KeyId: ADMIN_KEY_ID, KeySpec: "AES_256" }))
      .catch((e: unknown) => e as SdkError);
    expect((generate as SdkError).name).toBe("DisabledException");
    aws.setKeyState(ADMIN_KEY_ID, "PendingDeletion");
    const pending = (await decrypt()) as SdkError;
    expect([pending.name, pending.$metadata?.httpStatusCode]).toEqual([
      "KMSInvalidStateException",
      409,
    ]);
    expect(aws.counters.count({ operation: "Decrypt" })).toBe(2);
  });
});
