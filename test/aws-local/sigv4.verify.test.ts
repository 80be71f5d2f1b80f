import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsLocal, startAwsLocal } from "../support/aws-local/index.js";
import {
  parseAuthorization,
  verifySignature,
  type WireRequest,
} from "../support/aws-local/sigv4.js";
import { ADMIN_KEY_ID, adminKeyPolicy, adminKms } from "./fixtures.js";

// Published AWS SigV4 test suite (aws-sig-v4-test-suite): credentials and the request instant.
const SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_NOW = Date.parse("2015-08-30T12:36:00Z");

function suiteRequest(
  method: string,
  query: string,
  signature: string,
): { wire: WireRequest; header: string } {
  return {
    wire: {
      method,
      path: "/",
      query,
      rawHeaders: ["Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z"],
      body: Buffer.alloc(0),
    },
    header: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
  };
}

describe("aws-local SigV4 verifier against the published AWS test suite", () => {
  it.each([
    ["get-vanilla", "GET", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"],
    [
      "post-vanilla",
      "POST",
      "",
      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ],
    [
      "get-vanilla-query-order-key-case",
      "GET",
      "Param2=value2&Param1=value1",
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ],
  ])("accepts %s", (_name, method, query, signature) => {
    const { wire, header } = suiteRequest(method, query, signature);
    const parsed = parseAuthorization(header);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(verifySignature(wire, parsed.value, SUITE_SECRET, SUITE_NOW)).toEqual({
      ok: true,
      value: { requestTimeMs: SUITE_NOW },
    });
  });

  it("rejects the get-vanilla signature under another secret, method or clock", () => {
    const { wire, header } = suiteRequest(
      "GET",
      "",
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
    const parsed = parseAuthorization(header);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(verifySignature(wire, parsed.value, `${SUITE_SECRET}x`, SUITE_NOW)).toMatchObject({
      ok: false,
      failure: "signature-mismatch",
    });
    expect(
      verifySignature({ ...wire, method: "POST" }, parsed.value, SUITE_SECRET, SUITE_NOW),
    ).toMatchObject({ ok: false, failure: "signature-mismatch" });
    expect(
      verifySignature(wire, parsed.value, SUITE_SECRET, SUITE_NOW + 5 * 60 * 1000 + 1),
    ).toMatchObject({ ok: false, failure: "signature-expired" });
  });

  it("rejects malformed Authorization headers as incomplete signatures", () => {
    expect(parseAuthorization(undefined)).toMatchObject({
      ok: false,
      failure: "missing-authentication",
    });
    expect(
      parseAuthorization(
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=x-amz-date;host, Signature=" +
          "a".repeat(64),
      ),
    ).toMatchObject({ ok: false, failure: "incomplete-signature" });
    expect(
      parseAuthorization(
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, SignedHeaders=host, Signature=" +
          "a".repeat(64),
      ),
    ).toMatchObject({ ok: false, failure: "incomplete-signature" });
    expect(
      parseAuthorization("AWS4-HMAC-SHA1 Credential=AKID/20150830/us-east-1/service/aws4_request"),
    ).toMatchObject({ ok: false, failure: "incomplete-signature" });
  });
});

/** Captures the signed HTTP request the real SDK sends (after signing, before the wire). */
function captureSignedRequests(
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
      // Copy the bytes without touching the SDK's string adapter (whose string methods warn).
      const body =
        typeof raw === "string"
          ? raw
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8");
      captured.push({ headers: { ...request.headers }, body });
      return next(args);
    },
    { step: "deserialize", name: "captureSignedRequest" },
  );
  return captured;
}

describe("aws-local KMS rejects requests whose signature does not match (hand-modified with fetch)", () => {
  let aws: AwsLocal;
  let sdkRequest: { headers: Record<string, string>; body: string };

  beforeAll(async () => {
    aws = await startAwsLocal({ keys: [{ keyId: ADMIN_KEY_ID, policy: adminKeyPolicy() }] });
    const kms = adminKms(aws);
    const captured = captureSignedRequests(kms);
    await kms.send(
      new GenerateDataKeyCommand({
        KeyId: ADMIN_KEY_ID,
        KeySpec: "AES_256",
        EncryptionContext: { userId: "u-1" },
      }),
    );
    kms.destroy();
    sdkRequest = captured[0] as { headers: Record<string, string>; body: string };
  });
  afterAll(async () => {
    await aws.close();
  });

  async function replay(headers: Record<string, string>, body: string) {
    const sendable = Object.fromEntries(
      Object.entries(headers).filter(
        ([k]) => !["host", "content-length"].includes(k.toLowerCase()),
      ),
    );
    const response = await fetch(aws.kmsEndpoint, { method: "POST", headers: sendable, body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it("accepts the SDK's request replayed unchanged (control)", async () => {
    const { status, json } = await replay(sdkRequest.headers, sdkRequest.body);
    expect(status).toBe(200);
    expect(json.KeyId).toBe(aws.keyArn(ADMIN_KEY_ID));
  });

  it("rejects a changed body, target header, signature or key id", async () => {
    aws.counters.reset();
    const tamperedBody = sdkRequest.body.replace('"u-1"', '"u-2"');
    expect(tamperedBody).not.toBe(sdkRequest.body);
    const badSignature = sdkRequest.headers.authorization?.replace(
      /Signature=([0-9a-f])/,
      (_m, c: string) => `Signature=${c === "0" ? "1" : "0"}`,
    ) as string;
    const cases: Array<[Record<string, string>, string, string]> = [
      [sdkRequest.headers, tamperedBody, "InvalidSignatureException"],
      [
        { ...sdkRequest.headers, "x-amz-target": "TrentService.Encrypt" },
        sdkRequest.body,
        "InvalidSignatureException",
      ],
      [
        { ...sdkRequest.headers, authorization: badSignature },
        sdkRequest.body,
        "InvalidSignatureException",
      ],
      [
        {
          ...sdkRequest.headers,
          authorization: sdkRequest.headers.authorization?.replace(
            /Credential=[A-Z0-9]+/,
            "Credential=AKIAUNKNOWNUNKNOWN00",
          ) as string,
        },
        sdkRequest.body,
        "UnrecognizedClientException",
      ],
      [
        Object.fromEntries(
          Object.entries(sdkRequest.headers).filter(([k]) => k !== "authorization"),
        ),
        sdkRequest.body,
        "MissingAuthenticationTokenException",
      ],
    ];
    for (const [headers, body, code] of cases) {
      const { status, json } = await replay(headers, body);
      expect({ status, type: json.__type }).toEqual({ status: 400, type: code });
    }
    expect(aws.counters.count({ service: "kms", outcome: "error" })).toBe(cases.length);
  });

  it("rejects an unsigned extra x-amz-* header added to a signed request", async () => {
    const { json } = await replay({ ...sdkRequest.headers, "x-amz-extra": "1" }, sdkRequest.body);
    expect(json.__type).toBe("IncompleteSignatureException");
  });

  it("a clock-skewed SDK is rejected with InvalidSignatureException, then corrects its clock from the Date header", async () => {
    const skewed = adminKms(aws);
    skewed.config.systemClockOffset = -10 * 60 * 1000;
    const once = adminKms(aws, undefined, 1);
    once.config.systemClockOffset = -10 * 60 * 1000;
    const failed = await once
      .send(new DecryptCommand({ CiphertextBlob: Buffer.from("x") }))
      .catch((e: unknown) => e);
    expect((failed as Error).name).toBe("InvalidSignatureException");
    aws.counters.reset();
    const out = await skewed.send(
      new GenerateDataKeyCommand({ KeyId: ADMIN_KEY_ID, NumberOfBytes: 16 }),
    );
    expect(out.Plaintext?.length).toBe(16);
    expect(aws.counters.count({ errorCode: "InvalidSignatureException" })).toBe(1);
    expect(aws.counters.count({ outcome: "ok" })).toBe(1);
    skewed.destroy();
    once.destroy();
  });
});
