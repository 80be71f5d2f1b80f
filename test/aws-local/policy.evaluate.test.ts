import { describe, expect, it } from "vitest";
import type { ContextValue } from "../support/aws-local/conditions.js";
import { evaluatePolicy, type PolicyPrincipal, parsePolicy } from "../support/aws-local/policy.js";

const ACCT = "111122223333";
const ROLE = `arn:aws:iam::${ACCT}:role/vault-user-session`;
const SESSION = `arn:aws:sts::${ACCT}:assumed-role/vault-user-session/s1`;
const KEY = `arn:aws:kms:us-east-1:${ACCT}:key/k1`;
const session: PolicyPrincipal = { kind: "aws", accountId: ACCT, arns: [SESSION, ROLE] };

function ctx(entries: Record<string, string | string[]>): Map<string, ContextValue> {
  return new Map(
    Object.entries(entries).map(([k, v]) => [
      k.toLowerCase().startsWith("kms:encryptioncontext:")
        ? `kms:encryptioncontext:${k.slice(22)}`
        : k.toLowerCase(),
      Array.isArray(v) ? { multi: true, values: v } : { multi: false, values: [v] },
    ]),
  );
}

/** One Allow statement for `*` on kms:Decrypt with the given Condition block. */
function decide(
  condition: Record<string, Record<string, unknown>>,
  context: Record<string, string | string[]>,
) {
  const policy = parsePolicy({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: "*",
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: condition,
      },
    ],
  });
  return evaluatePolicy(policy, {
    principal: session,
    action: "kms:Decrypt",
    resource: KEY,
    context: ctx(context),
  });
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
const TAG = "${aws:PrincipalTag/userId}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable with a default value
const TAG_OR_NOBODY = "${aws:PrincipalTag/userId, 'nobody'}";

describe("aws-local policy evaluation: statements, principals, actions, resources", () => {
  const evaluate = (
    statements: unknown[],
    principal: PolicyPrincipal = session,
    action = "kms:Decrypt",
  ) =>
    evaluatePolicy(parsePolicy({ Version: "2012-10-17", Statement: statements }), {
      principal,
      action,
      resource: KEY,
      context: ctx({}),
    });

  it("explicit Deny wins over any Allow", () => {
    expect(
      evaluate([
        { Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" },
        { Effect: "Deny", Principal: "*", Action: "kms:Decrypt", Resource: "*" },
      ]),
    ).toBe("explicit-deny");
  });

  it("no applicable statement is an implicit deny", () => {
    expect(
      evaluate([{ Effect: "Allow", Principal: "*", Action: "kms:Encrypt", Resource: "*" }]),
    ).toBe("implicit-deny");
  });

  it("actions match case-insensitively with * and ? wildcards, anchored", () => {
    const allow = (Action: string) =>
      evaluate(
        [{ Effect: "Allow", Principal: "*", Action, Resource: "*" }],
        session,
        "kms:GenerateDataKeyWithoutPlaintext",
      );
    expect(allow("kms:GenerateDataKey*")).toBe("allow");
    expect(allow("KMS:generatedatakeywithoutplaintext")).toBe("allow");
    expect(allow("kms:GenerateDataKey")).toBe("implicit-deny");
    expect(allow("kms:GenerateDataKeyWithoutPlaintex?")).toBe("allow");
  });

  it("a role ARN principal matches its sessions; a session ARN matches only itself", () => {
    const other: PolicyPrincipal = {
      kind: "aws",
      accountId: ACCT,
      arns: [`arn:aws:sts::${ACCT}:assumed-role/vault-user-session/s2`, ROLE],
    };
    const bySession = [
      { Effect: "Allow", Principal: { AWS: SESSION }, Action: "kms:Decrypt", Resource: "*" },
    ];
    expect(
      evaluate(
        [{ Effect: "Allow", Principal: { AWS: [ROLE] }, Action: "kms:Decrypt", Resource: "*" }],
        other,
      ),
    ).toBe("allow");
    expect(evaluate(bySession)).toBe("allow");
    expect(evaluate(bySession, other)).toBe("implicit-deny");
  });

  it("the account root delegates an Allow to IAM but a Deny naming it applies to everyone in the account", () => {
    expect(
      evaluate([
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCT}:root` },
          Action: "kms:*",
          Resource: "*",
        },
      ]),
    ).toBe("allow-via-account");
    expect(
      evaluate([
        { Effect: "Allow", Principal: { AWS: "999988887777" }, Action: "kms:*", Resource: "*" },
      ]),
    ).toBe("implicit-deny");
    expect(
      evaluate([
        { Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" },
        { Effect: "Deny", Principal: { AWS: ACCT }, Action: "kms:*", Resource: "*" },
      ]),
    ).toBe("explicit-deny");
  });

  it("NotPrincipal, NotAction and NotResource invert their element", () => {
    expect(
      evaluate([
        { Effect: "Deny", NotPrincipal: { AWS: ROLE }, Action: "kms:*", Resource: "*" },
        { Effect: "Allow", Principal: "*", Action: "kms:*", Resource: "*" },
      ]),
    ).toBe("allow");
    expect(
      evaluate([{ Effect: "Allow", Principal: "*", NotAction: "kms:Decrypt", Resource: "*" }]),
    ).toBe("implicit-deny");
    expect(
      evaluate([
        {
          Effect: "Allow",
          Principal: "*",
          Action: "kms:*",
          NotResource: "arn:aws:kms:*:*:key/other",
        },
      ]),
    ).toBe("allow");
    expect(
      evaluate([
        {
          Effect: "Allow",
          Principal: "*",
          Action: "kms:*",
          Resource: "arn:aws:kms:us-east-1:*:key/k?",
        },
      ]),
    ).toBe("allow");
    expect(
      evaluate([
        {
          Effect: "Allow",
          Principal: "*",
          Action: "kms:*",
          Resource: "arn:aws:kms:eu-west-1:*:key/*",
        },
      ]),
    ).toBe("implicit-deny");
  });

  it("a federated principal matches only Principal.Federated", () => {
    const provider = `arn:aws:iam::${ACCT}:oidc-provider/auth.example.com`;
    const federated: PolicyPrincipal = { kind: "federated", provider };
    expect(
      evaluate(
        [{ Effect: "Allow", Principal: { Federated: provider }, Action: "kms:Decrypt" }],
        federated,
      ),
    ).toBe("allow");
    expect(
      evaluate([{ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt" }], federated),
    ).toBe("implicit-deny");
  });
});

describe("aws-local policy evaluation: condition operators", () => {
  it("StringEquals with the PrincipalTag/userId variable compares against the caller's tag, case-sensitively", () => {
    const cond = { StringEquals: { "kms:EncryptionContext:userId": TAG } };
    expect(
      decide(cond, { "kms:EncryptionContext:userId": "u-a", "aws:PrincipalTag/userId": "u-a" }),
    ).toBe("allow");
    expect(
      decide(cond, { "kms:EncryptionContext:userId": "u-b", "aws:PrincipalTag/userId": "u-a" }),
    ).toBe("implicit-deny");
    expect(
      decide(cond, { "kms:EncryptionContext:userId": "U-A", "aws:PrincipalTag/userId": "u-a" }),
    ).toBe("implicit-deny");
  });

  it("a policy variable with no value matches nothing, unless it has a default", () => {
    expect(
      decide(
        { StringEquals: { "kms:EncryptionContext:userId": TAG } },
        { "kms:EncryptionContext:userId": "" },
      ),
    ).toBe("implicit-deny");
    expect(
      decide(
        {
          StringEquals: { "kms:EncryptionContext:userId": TAG_OR_NOBODY },
        },
        { "kms:EncryptionContext:userId": "nobody" },
      ),
    ).toBe("allow");
  });

  it("the encryption-context key after kms:EncryptionContext: is case-sensitive; the prefix is not", () => {
    expect(
      decide(
        { StringEquals: { "KMS:ENCRYPTIONCONTEXT:userId": "a" } },
        { "kms:EncryptionContext:userId": "a" },
      ),
    ).toBe("allow");
    expect(
      decide(
        { StringEquals: { "kms:EncryptionContext:USERID": "a" } },
        { "kms:EncryptionContext:userId": "a" },
      ),
    ).toBe("implicit-deny");
  });

  it("values of one key are ORed; keys and operators are ANDed", () => {
    const cond = {
      StringEquals: {
        "kms:EncryptionContext:purpose": ["a", "b"],
        "kms:EncryptionContext:userId": "u",
      },
    };
    expect(
      decide(cond, { "kms:EncryptionContext:purpose": "b", "kms:EncryptionContext:userId": "u" }),
    ).toBe("allow");
    expect(
      decide(cond, { "kms:EncryptionContext:purpose": "b", "kms:EncryptionContext:userId": "v" }),
    ).toBe("implicit-deny");
  });

  it("a missing key fails positive operators, satisfies negated ones and …IfExists", () => {
    expect(decide({ StringEquals: { "aws:PrincipalTag/userId": "u" } }, {})).toBe("implicit-deny");
    expect(decide({ StringNotEquals: { "aws:PrincipalTag/userId": "u" } }, {})).toBe("allow");
    expect(decide({ StringEqualsIfExists: { "aws:PrincipalTag/userId": "u" } }, {})).toBe("allow");
    expect(
      decide(
        { StringEqualsIfExists: { "aws:PrincipalTag/userId": "u" } },
        { "aws:PrincipalTag/userId": "v" },
      ),
    ).toBe("implicit-deny");
  });

  it("ForAllValues:StringEquals passes for a subset and for an empty set, fails on an extra key", () => {
    const cond = {
      "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["userId", "purpose"] },
    };
    expect(decide(cond, { "kms:EncryptionContextKeys": ["purpose", "userId"] })).toBe("allow");
    expect(decide(cond, { "kms:EncryptionContextKeys": ["userId"] })).toBe("allow");
    expect(decide(cond, { "kms:EncryptionContextKeys": [] })).toBe("allow");
    expect(decide(cond, { "kms:EncryptionContextKeys": ["userId", "aws-crypto-public-key"] })).toBe(
      "implicit-deny",
    );
  });

  it("ForAnyValue needs one matching member and fails on an empty set", () => {
    const cond = { "ForAnyValue:StringLike": { "kms:EncryptionContextKeys": "user*" } };
    expect(decide(cond, { "kms:EncryptionContextKeys": ["purpose", "userId"] })).toBe("allow");
    expect(decide(cond, { "kms:EncryptionContextKeys": [] })).toBe("implicit-deny");
    expect(decide(cond, { "kms:EncryptionContextKeys": ["purpose"] })).toBe("implicit-deny");
  });

  it("Null is true for an absent key and false for a present one", () => {
    expect(decide({ Null: { "aws:PrincipalTag/userId": "true" } }, {})).toBe("allow");
    expect(
      decide({ Null: { "aws:PrincipalTag/userId": "true" } }, { "aws:PrincipalTag/userId": "u" }),
    ).toBe("implicit-deny");
    expect(
      decide({ Null: { "aws:PrincipalTag/userId": "false" } }, { "aws:PrincipalTag/userId": "u" }),
    ).toBe("allow");
  });

  it("StringLike wildcards match, but wildcard characters from a variable's value are literal", () => {
    expect(
      decide(
        { StringLike: { "kms:EncryptionContext:path": "users/*/key-?" } },
        { "kms:EncryptionContext:path": "users/u1/key-7" },
      ),
    ).toBe("allow");
    const viaVariable = { StringLike: { "kms:EncryptionContext:userId": TAG } };
    expect(
      decide(viaVariable, {
        "kms:EncryptionContext:userId": "anyone",
        "aws:PrincipalTag/userId": "*",
      }),
    ).toBe("implicit-deny");
    expect(
      decide(viaVariable, { "kms:EncryptionContext:userId": "*", "aws:PrincipalTag/userId": "*" }),
    ).toBe("allow");
    expect(
      decide(
        { StringNotLike: { "kms:EncryptionContext:path": "users/*" } },
        { "kms:EncryptionContext:path": "admin/x" },
      ),
    ).toBe("allow");
  });

  it("StringEqualsIgnoreCase and StringNotEqualsIgnoreCase fold case", () => {
    expect(
      decide(
        { StringEqualsIgnoreCase: { "aws:PrincipalTag/team": "Ops" } },
        { "aws:PrincipalTag/team": "OPS" },
      ),
    ).toBe("allow");
    expect(
      decide(
        { StringNotEqualsIgnoreCase: { "aws:PrincipalTag/team": "Ops" } },
        { "aws:PrincipalTag/team": "ops" },
      ),
    ).toBe("implicit-deny");
  });

  it("ArnEquals/ArnLike match per ARN component; ArnNotEquals is their negation", () => {
    expect(
      decide(
        { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/vault-*" } },
        { "aws:PrincipalArn": ROLE },
      ),
    ).toBe("allow");
    expect(decide({ ArnEquals: { "aws:PrincipalArn": ROLE } }, { "aws:PrincipalArn": ROLE })).toBe(
      "allow",
    );
    expect(
      decide(
        { ArnNotEquals: { "aws:PrincipalArn": ROLE } },
        { "aws:PrincipalArn": `arn:aws:iam::${ACCT}:user/operator` },
      ),
    ).toBe("allow");
    expect(
      decide({ ArnNotEquals: { "aws:PrincipalArn": ROLE } }, { "aws:PrincipalArn": ROLE }),
    ).toBe("implicit-deny");
    expect(
      decide({ ArnLike: { "aws:PrincipalArn": "not-an-arn" } }, { "aws:PrincipalArn": ROLE }),
    ).toBe("implicit-deny");
  });

  it("Bool, Numeric* and Date* compare typed values", () => {
    expect(
      decide({ Bool: { "aws:SecureTransport": "false" } }, { "aws:SecureTransport": "false" }),
    ).toBe("allow");
    expect(
      decide({ NumericLessThanEquals: { "kms:GrantCount": "5" } }, { "kms:GrantCount": "5" }),
    ).toBe("allow");
    expect(decide({ NumericGreaterThan: { "kms:GrantCount": 5 } }, { "kms:GrantCount": "5" })).toBe(
      "implicit-deny",
    );
    expect(decide({ NumericEquals: { "kms:GrantCount": "x" } }, { "kms:GrantCount": "5" })).toBe(
      "implicit-deny",
    );
    expect(
      decide(
        { DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" } },
        { "aws:CurrentTime": "2026-11-29T00:00:00Z" },
      ),
    ).toBe("allow");
    expect(
      decide(
        { DateGreaterThan: { "aws:TokenIssueTime": "1600000000" } },
        { "aws:TokenIssueTime": "2023-01-01T00:00:00Z" },
      ),
    ).toBe("allow");
  });
});

describe("aws-local policy validation (like PutKeyPolicy)", () => {
  it.each([
    [
      "an unknown operator",
      { Effect: "Allow", Principal: "*", Action: "kms:*", Condition: { StringEqualz: { a: "b" } } },
    ],
    [
      "an unknown set qualifier",
      {
        Effect: "Allow",
        Principal: "*",
        Action: "kms:*",
        Condition: { "ForSomeValues:StringEquals": { a: "b" } },
      },
    ],
    [
      "Null with IfExists",
      {
        Effect: "Allow",
        Principal: "*",
        Action: "kms:*",
        Condition: { NullIfExists: { a: "true" } },
      },
    ],
    ["a missing Principal", { Effect: "Allow", Action: "kms:*" }],
    [
      "both Action and NotAction",
      { Effect: "Allow", Principal: "*", Action: "kms:*", NotAction: "kms:Decrypt" },
    ],
    [
      "an operator named like an Object.prototype member",
      { Effect: "Allow", Principal: "*", Action: "kms:*", Condition: { constructor: { a: "b" } } },
    ],
    ["a bad Effect", { Effect: "Permit", Principal: "*", Action: "kms:*" }],
    ["an unknown element", { Effect: "Allow", Principal: "*", Action: "kms:*", Condtion: {} }],
  ])("rejects %s", (_name, statement) => {
    expect(() => parsePolicy({ Version: "2012-10-17", Statement: [statement] })).toThrow(
      /^MalformedPolicyDocument/,
    );
  });

  it("identity policies must not name a Principal", () => {
    expect(() =>
      parsePolicy(
        { Statement: { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" } },
        "identity",
      ),
    ).toThrow(/MalformedPolicyDocument/);
    expect(
      parsePolicy({ Statement: { Effect: "Allow", Action: "*", Resource: "*" } }, "identity").kind,
    ).toBe("identity");
  });
});
