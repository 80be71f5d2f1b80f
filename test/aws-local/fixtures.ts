/**
 * Shared fixtures for the aws-local server tests: the policies of kms.md §2.2 (trust policy (b),
 * key policy (c) plus a key-admin statement) and SDK client factories pointed at the server.
 */
import { createHmac } from "node:crypto";
import { KMSClient } from "@aws-sdk/client-kms";
import { fromWebToken } from "@aws-sdk/credential-providers";
import type { AwsLocal, PolicyDocument, TestIdentityProvider } from "../support/aws-local/index.js";
import { canonicalRequest, deriveSigningKey, sha256Hex } from "../support/aws-local/sigv4.js";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/vault-user-session`;
export const VAULT_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
/** The IAM policy variable for the caller's userId session tag. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
export const PRINCIPAL_USER_ID = "${aws:PrincipalTag/userId}";
export const ADMIN_KEY_ID = "0000aaaa-00aa-00aa-00aa-000000000001";

export function providerHost(issuer: string): string {
  return issuer.replace(/^https:\/\//, "").replace(/\/+$/, "");
}

/** kms.md §2.2 (b): only tokens of our IdP with our audience may assume the role (and tag it). */
export function trustPolicy(idp: TestIdentityProvider): PolicyDocument {
  const host = providerHost(idp.issuer);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "UsersOfOurIdpOnly",
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
        Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        Condition: { StringEquals: { [`${host}:aud`]: idp.audience } },
      },
    ],
  };
}

/** kms.md §2.2 (c), plus the usual key-admin statement delegating to IAM in the account. */
export function vaultKeyPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "KeyAdministration",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "UserSessionMayUnwrapOnlyOwnDataKeys",
        Effect: "Allow",
        Principal: { AWS: ROLE_ARN },
        Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"],
        Resource: "*",
        Condition: {
          StringEquals: {
            "kms:EncryptionContext:userId": PRINCIPAL_USER_ID,
            "kms:EncryptionContext:purpose": "exchange-api-secret",
          },
          "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["userId", "purpose"] },
        },
      },
      {
        Sid: "NobodyElseMayDecryptOrReEncryptOrGrant",
        Effect: "Deny",
        Principal: "*",
        Action: ["kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { ArnNotEquals: { "aws:PrincipalArn": ROLE_ARN } },
      },
      {
        Sid: "DenyUntaggedSessions",
        Effect: "Deny",
        Principal: "*",
        Action: ["kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        Resource: "*",
        Condition: { Null: { "aws:PrincipalTag/userId": "true" } },
      },
    ],
  };
}

/** A key the admin may fully use (for static-credential tests). */
export function adminKeyPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

/** KMSClient with the admin's static credentials. */
export function adminKms(aws: AwsLocal, region = REGION, maxAttempts = 3): KMSClient {
  return new KMSClient({
    region,
    endpoint: aws.kmsEndpoint,
    maxAttempts,
    credentials: {
      accessKeyId: aws.adminCredentials.accessKeyId,
      secretAccessKey: aws.adminCredentials.secretAccessKey,
    },
  });
}

/** KMSClient whose credentials come from STS AssumeRoleWithWebIdentity with `token`. */
export function sessionKms(
  aws: AwsLocal,
  token: string,
  region = REGION,
  maxAttempts = 3,
  roleArn = ROLE_ARN,
): KMSClient {
  return new KMSClient({
    region,
    endpoint: aws.kmsEndpoint,
    maxAttempts,
    credentials: fromWebToken({
      roleArn,
      webIdentityToken: token,
      roleSessionName: "vault-session",
      durationSeconds: 900,
      clientConfig: { region, endpoint: aws.stsEndpoint, maxAttempts },
    }),
  });
}

/** The encryption context keywarden's vault uses (kms.md §5). */
export function userContext(userId: string): Record<string, string> {
  return { userId, purpose: "exchange-api-secret" };
}

/**
 * Signs a request by hand for cases the SDK cannot produce (STS GetCallerIdentity, odd KMS
 * targets). Built from the sigv4.ts primitives, which the published AWS test vectors pin
 * (sigv4.verify.test.ts). Returns headers for fetch (without `host`, which fetch sets).
 */
export function signRequest(options: {
  endpoint: string;
  service: "kms" | "sts";
  headers: Record<string, string>;
  body: string;
  accessKeyId: string;
  secret: string;
  region?: string;
}): { headers: Record<string, string>; body: string } {
  const region = options.region ?? REGION;
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const headers: Record<string, string> = {
    ...options.headers,
    host: new URL(options.endpoint).host,
    "x-amz-date": amzDate,
  };
  const signed = Object.keys(headers).sort();
  const wire = {
    method: "POST",
    path: "/",
    query: "",
    rawHeaders: Object.entries(headers).flat(),
    body: Buffer.from(options.body),
  };
  const canonical = canonicalRequest(wire, signed, sha256Hex(options.body));
  const scope = `${amzDate.slice(0, 8)}/${region}/${options.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
  const key = deriveSigningKey(options.secret, amzDate.slice(0, 8), region, options.service);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  const { host: _host, ...sendable } = headers;
  return {
    headers: {
      ...sendable,
      authorization: `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
    },
    body: options.body,
  };
}
