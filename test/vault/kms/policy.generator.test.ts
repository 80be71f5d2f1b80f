import { describe, expect, it } from "vitest";
import {
  buildKeyPolicy,
  buildTrustPolicy,
  PRINCIPAL_USER_ID,
} from "../../../src/vault/kms/aws-policy.js";

const base = {
  accountId: "111122223333",
  oidcProvider: "auth.example.com",
  audience: "trading-api",
  sessionRoleName: "kw-session",
  keyAdminArns: ["arn:aws:iam::111122223333:role/kms-admin"],
};
type Stmt = {
  Sid: string;
  Effect: string;
  Principal: unknown;
  Action: string[];
  Condition?: Record<string, Record<string, unknown>>;
};
const stmts = (p: Record<string, unknown>) => p.Statement as Stmt[];

describe("policy generator", () => {
  it("binds the session role's key use to its own userId tag", () => {
    const s = stmts(buildKeyPolicy(base)).find((x) => x.Sid === "UserSessionMayUseOnlyOwnContext");
    expect(PRINCIPAL_USER_ID).toBe(`$\{aws:PrincipalTag/userId}`);
    expect(s?.Principal).toEqual({ AWS: "arn:aws:iam::111122223333:role/kw-session" });
    expect(s?.Condition?.StringEquals?.["kms:EncryptionContext:userId"]).toBe(PRINCIPAL_USER_ID);
    expect(s?.Action).not.toContain("kms:CreateGrant");
  });

  it("denies everyone else Decrypt, ReEncrypt*, CreateGrant and GenerateDataKey*", () => {
    const p = stmts(buildKeyPolicy({ ...base, grantRoleName: "kw-grants" }));
    const deny = p.find((x) => x.Sid === "NobodyElseMayUseTheKey");
    expect(deny?.Effect).toBe("Deny");
    expect(deny?.Principal).toEqual({ AWS: "*" });
    expect(deny?.Action).toEqual([
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:CreateGrant",
      "kms:GenerateDataKey*",
    ]);
    expect(deny?.Condition?.ArnNotEquals?.["aws:PrincipalArn"]).toEqual([
      "arn:aws:iam::111122223333:role/kw-session",
      "arn:aws:iam::111122223333:role/kw-grants",
    ]);
    // the admins never get a use action
    const admin = p.find((x) => x.Sid === "KeyAdministrationWithoutUse");
    for (const a of admin?.Action ?? [])
      expect(a).not.toMatch(/Decrypt|Encrypt|GenerateDataKey|Grant$/);
  });

  it("without a grant role, only the session role escapes the deny", () => {
    const p = stmts(buildKeyPolicy(base));
    expect(
      p.find((x) => x.Sid === "NobodyElseMayUseTheKey")?.Condition?.ArnNotEquals?.[
        "aws:PrincipalArn"
      ],
    ).toEqual(["arn:aws:iam::111122223333:role/kw-session"]);
    expect(p.some((x) => x.Sid.startsWith("GrantRunner"))).toBe(false);
  });

  it("trust policy admits only the IdP's tokens for the audience, with a userId tag", () => {
    const t = stmts(buildTrustPolicy(base))[0];
    expect(t?.Action).toEqual(["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]);
    expect(t?.Condition).toEqual({
      StringEquals: { "auth.example.com:aud": "trading-api" },
      Null: { "aws:RequestTag/userId": "false" },
    });
  });

  it("refuses invalid options", () => {
    for (const bad of [
      { accountId: "12" },
      { sessionRoleName: "a b" },
      { keyAdminArns: [] },
      { oidcProvider: "https://x" },
    ]) {
      expect(() => buildKeyPolicy({ ...base, ...bad })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    }
  });
});
