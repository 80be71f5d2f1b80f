/**
 * Generators for the AWS IAM role trust policy and the KMS key policy that bind KMS use to the
 * user's own session (docs/kms-setup.md): only the session role, and only with an encryption
 * context whose `userId` equals the session's `userId` tag, may unwrap or generate data keys;
 * everyone else — key administrators, the account root, other roles — is denied Decrypt,
 * ReEncrypt*, CreateGrant and GenerateDataKey*.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import { KeywardenError } from "../../errors.js";

/** Options of {@link buildKeyPolicy} and {@link buildTrustPolicy}. */
export interface PolicyOptions {
  /** 12-digit AWS account id. */
  readonly accountId: string;
  /** IAM OIDC provider host (and path), e.g. `auth.example.com`. */
  readonly oidcProvider: string;
  /** Expected `aud` of the users' tokens. */
  readonly audience: string;
  /** Role users' sessions assume through AssumeRoleWithWebIdentity. */
  readonly sessionRoleName: string;
  /** Role the trading bot runs as to open grant copies; omit to disable grants on AWS. */
  readonly grantRoleName?: string;
  /** Principals that administer the key (never use it). */
  readonly keyAdminArns: readonly string[];
  /** AWS partition. Default `aws`. */
  readonly partition?: string;
}

const schema = z.object({
  accountId: z.string().regex(/^\d{12}$/),
  oidcProvider: z.string().regex(/^[A-Za-z0-9.-]+(\/[A-Za-z0-9._~/-]*)?$/),
  audience: z.string().min(1).max(256),
  sessionRoleName: z.string().regex(/^[\w+=,.@-]{1,64}$/),
  grantRoleName: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/)
    .optional(),
  keyAdminArns: z.array(z.string().regex(/^arn:[a-z-]+:iam::\d{12}:[A-Za-z0-9+=,.@/_-]+$/)).min(1),
  partition: z
    .string()
    .regex(/^aws(-[a-z-]+)?$/)
    .optional(),
});

type Statement = Record<string, unknown>;

function parse(options: PolicyOptions) {
  const r = schema.safeParse(options);
  if (!r.success) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `invalid policy options: ${r.error.issues[0]?.path.join(".")}`,
    );
  }
  const p = r.data.partition ?? "aws";
  const role = (name: string) => `arn:${p}:iam::${r.data.accountId}:role/${name}`;
  return {
    ...r.data,
    sessionRoleArn: role(r.data.sessionRoleName),
    grantRoleArn: r.data.grantRoleName === undefined ? undefined : role(r.data.grantRoleName),
    providerArn: `arn:${p}:iam::${r.data.accountId}:oidc-provider/${r.data.oidcProvider}`,
  };
}

/** The IAM policy variable resolving to the caller's `userId` session tag (a literal `${…}`). */
export const PRINCIPAL_USER_ID = ["$", "{aws:PrincipalTag/userId}"].join("");

/** The context keys keywarden sends; any other key is refused. */
export const CONTEXT_KEYS = ["userId", "purpose", "grantId"] as const;
const USE_ACTIONS = ["kms:Decrypt", "kms:ReEncrypt*", "kms:CreateGrant", "kms:GenerateDataKey*"];

/**
 * The trust policy of the session role: only tokens of your IdP for your audience may assume it,
 * and the session must carry a `userId` tag (from the token's `https://aws.amazon.com/tags`).
 *
 * @example
 * ```ts
 * const trust = buildTrustPolicy({ accountId: "111122223333", oidcProvider: "auth.example.com",
 *   audience: "trading-api", sessionRoleName: "keywarden-user-session", keyAdminArns: [adminArn] });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for invalid options.
 */
export function buildTrustPolicy(options: PolicyOptions): Record<string, unknown> {
  const o = parse(options);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "UsersOfOurIdpOnlyWithUserIdTag",
        Effect: "Allow",
        Principal: { Federated: o.providerArn },
        Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        Condition: {
          StringEquals: { [`${o.oidcProvider}:aud`]: o.audience },
          Null: { "aws:RequestTag/userId": "false" },
        },
      },
    ],
  };
}

/**
 * The KMS key policy: the session role may use the key only for its own user's context; the grant
 * role (if any) may only Decrypt grant copies; everyone else is denied every use.
 *
 * @example
 * ```ts
 * const policy = buildKeyPolicy(options);
 * await kmsAdmin.putKeyPolicy({ KeyId, Policy: JSON.stringify(policy) }); // by the key admin
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for invalid options.
 */
export function buildKeyPolicy(options: PolicyOptions): Record<string, unknown> {
  const o = parse(options);
  const users = [o.sessionRoleArn, ...(o.grantRoleArn ? [o.grantRoleArn] : [])];
  const statements: Statement[] = [
    {
      Sid: "KeyAdministrationWithoutUse",
      Effect: "Allow",
      Principal: { AWS: [...o.keyAdminArns] },
      Action: [
        "kms:Describe*",
        "kms:List*",
        "kms:Get*",
        "kms:Create*",
        "kms:Enable*",
        "kms:Disable*",
        "kms:Put*",
        "kms:Update*",
        "kms:Revoke*",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:ReplicateKey",
      ],
      Resource: "*",
    },
    {
      Sid: "UserSessionMayUseOnlyOwnContext",
      Effect: "Allow",
      Principal: { AWS: o.sessionRoleArn },
      Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
      Resource: "*",
      Condition: {
        StringEquals: {
          "kms:EncryptionContext:userId": PRINCIPAL_USER_ID,
          "kms:EncryptionContext:purpose": ["exchange-api-secret", "trading-grant"],
        },
        "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": [...CONTEXT_KEYS] },
      },
    },
    {
      Sid: "NobodyElseMayUseTheKey",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: USE_ACTIONS,
      Resource: "*",
      Condition: { ArnNotEquals: { "aws:PrincipalArn": users } },
    },
    {
      Sid: "NobodyMayCreateGrants",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["kms:CreateGrant"],
      Resource: "*",
    },
    {
      Sid: "SessionsMustBeTaggedAndMatchTheContext",
      Effect: "Deny",
      Principal: { AWS: o.sessionRoleArn },
      Action: USE_ACTIONS,
      Resource: "*",
      Condition: {
        StringNotEquals: { "kms:EncryptionContext:userId": PRINCIPAL_USER_ID },
      },
    },
    {
      Sid: "SessionsWithoutUserIdTagAreDenied",
      Effect: "Deny",
      Principal: { AWS: o.sessionRoleArn },
      Action: USE_ACTIONS,
      Resource: "*",
      Condition: { Null: { "aws:PrincipalTag/userId": "true" } },
    },
  ];
  if (o.grantRoleArn) {
    statements.push(
      {
        Sid: "GrantRunnerMayDecryptGrantCopiesOnly",
        Effect: "Allow",
        Principal: { AWS: o.grantRoleArn },
        Action: ["kms:Decrypt"],
        Resource: "*",
        Condition: {
          StringEquals: { "kms:EncryptionContext:purpose": "trading-grant" },
          Null: { "kms:EncryptionContext:grantId": "false" },
          "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": [...CONTEXT_KEYS] },
        },
      },
      {
        Sid: "GrantRunnerMayNotGenerateOrReEncrypt",
        Effect: "Deny",
        Principal: { AWS: o.grantRoleArn },
        Action: ["kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:Encrypt"],
        Resource: "*",
      },
      {
        Sid: "GrantRunnerMayNotOpenUserKeys",
        Effect: "Deny",
        Principal: { AWS: o.grantRoleArn },
        Action: ["kms:Decrypt"],
        Resource: "*",
        Condition: { StringNotEquals: { "kms:EncryptionContext:purpose": "trading-grant" } },
      },
    );
  }
  return { Version: "2012-10-17", Id: "keywarden-vault", Statement: statements };
}
