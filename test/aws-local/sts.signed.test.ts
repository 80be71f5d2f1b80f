import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsLocal,
  createTestIdentityProvider,
  startAwsLocal,
  type TestIdentityProvider,
} from "../support/aws-local/index.js";
import { ROLE_ARN, signRequest, trustPolicy } from "./fixtures.js";

function signedStsRequest(endpoint: string, body: string, accessKeyId: string, secret: string) {
  return signRequest({
    endpoint,
    service: "sts",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    accessKeyId,
    secret,
  });
}

describe("aws-local STS signed requests", () => {
  let idp: TestIdentityProvider;
  let aws: AwsLocal;

  beforeAll(async () => {
    idp = await createTestIdentityProvider();
    aws = await startAwsLocal({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
      roles: [{ arn: ROLE_ARN, trustPolicy: trustPolicy(idp) }],
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  const post = async (request: { headers: Record<string, string>; body: string }) => {
    const response = await fetch(aws.stsEndpoint, { method: "POST", ...request });
    return { status: response.status, text: await response.text() };
  };

  it("GetCallerIdentity signed with the admin's static credentials returns its ARN", async () => {
    const { accessKeyId, secretAccessKey, userArn } = aws.adminCredentials;
    const { status, text } = await post(
      signedStsRequest(
        aws.stsEndpoint,
        "Action=GetCallerIdentity&Version=2011-06-15",
        accessKeyId,
        secretAccessKey,
      ),
    );
    expect(status).toBe(200);
    expect(text).toContain(`<GetCallerIdentityResult><Arn>${userArn}</Arn>`);
    expect(text).toContain(`<Account>${aws.accountId}</Account>`);
  });

  it("maps SigV4 failures onto STS codes: SignatureDoesNotMatch / InvalidClientTokenId (403), IncompleteSignature (400)", async () => {
    const { accessKeyId, secretAccessKey } = aws.adminCredentials;
    const body = "Action=GetCallerIdentity&Version=2011-06-15";
    const wrongSecret = signedStsRequest(aws.stsEndpoint, body, accessKeyId, `${secretAccessKey}x`);
    const unknownKey = signedStsRequest(
      aws.stsEndpoint,
      body,
      "AKIAUNKNOWN000000000",
      secretAccessKey,
    );
    const cases: Array<[{ headers: Record<string, string>; body: string }, number, string]> = [
      [wrongSecret, 403, "SignatureDoesNotMatch"],
      [unknownKey, 403, "InvalidClientTokenId"],
      [
        {
          ...wrongSecret,
          headers: { ...wrongSecret.headers, authorization: "AWS4-HMAC-SHA256 Credential=x" },
        },
        400,
        "IncompleteSignature",
      ],
    ];
    for (const [request, status, code] of cases) {
      const out = await post(request);
      expect({ status: out.status, hasCode: out.text.includes(`<Code>${code}</Code>`) }).toEqual({
        status,
        hasCode: true,
      });
    }
  });

  it("AssumeRoleWithWebIdentity is unsigned in AWS, but a signature that is present must verify", async () => {
    const token = await idp.mintToken({ sub: "user-a", userId: "user-a" });
    const body = new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: ROLE_ARN,
      RoleSessionName: "s1",
      WebIdentityToken: token,
    }).toString();
    const unsigned = await post({
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(unsigned.status).toBe(200);
    expect(unsigned.text).toMatch(/<AccessKeyId>ASIA[A-Z2-7]{16}<\/AccessKeyId>/);
    const badlySigned = signedStsRequest(
      aws.stsEndpoint,
      body,
      aws.adminCredentials.accessKeyId,
      randomBytes(20).toString("hex"),
    );
    const refused = await post(badlySigned);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("refuses session policies rather than ignoring them, and validates RoleSessionName and DurationSeconds", async () => {
    const token = await idp.mintToken({ sub: "user-a", userId: "user-a" });
    const base = {
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: ROLE_ARN,
      RoleSessionName: "s1",
      WebIdentityToken: token,
    };
    for (const extra of [
      { Policy: "{}" },
      { RoleSessionName: "bad name" },
      { DurationSeconds: "899" },
      { DurationSeconds: "3601" },
    ]) {
      const out = await post({
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...base, ...extra }).toString(),
      });
      expect({ status: out.status, code: /<Code>ValidationError<\/Code>/.test(out.text) }).toEqual({
        status: 400,
        code: true,
      });
    }
  });
});
