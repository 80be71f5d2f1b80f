import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { ContextValue } from "../support/aws-local/conditions.js";
import { canonicalContext, LocalKey, parseBlob } from "../support/aws-local/kms-keys.js";
import { evaluatePolicy, type PolicyPrincipal, parsePolicy } from "../support/aws-local/policy.js";
import { adminKeyPolicy } from "./fixtures.js";

const principal: PolicyPrincipal = {
  kind: "aws",
  accountId: "111122223333",
  arns: ["arn:aws:iam::111122223333:user/u"],
};
// Policy values without `${…}`, so no value is read as a policy variable.
const token = fc.stringMatching(/^[A-Za-z0-9 _.:/=+@-]{0,8}$/);

function decide(
  operator: string,
  key: string,
  values: string[],
  context: Map<string, ContextValue>,
) {
  const policy = parsePolicy({
    Version: "2012-10-17",
    Statement: {
      Effect: "Allow",
      Principal: "*",
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { [operator]: { [key]: values } },
    },
  });
  return (
    evaluatePolicy(policy, {
      principal,
      action: "kms:Decrypt",
      resource: "arn:aws:kms:us-east-1:111122223333:key/k",
      context,
    }) === "allow"
  );
}

describe("aws-local policy evaluator properties", () => {
  test.prop([token, fc.array(token, { minLength: 1, maxLength: 4 })])(
    "for a present single-valued key, StringNotEquals is exactly the negation of StringEquals",
    (value, policyValues) => {
      const context = new Map<string, ContextValue>([
        ["aws:principaltag/userid", { multi: false, values: [value] }],
      ]);
      const equals = decide("StringEquals", "aws:PrincipalTag/userId", policyValues, context);
      expect(decide("StringNotEquals", "aws:PrincipalTag/userId", policyValues, context)).toBe(
        !equals,
      );
      expect(equals).toBe(policyValues.includes(value));
    },
  );

  test.prop([
    fc.uniqueArray(token, { maxLength: 5 }),
    fc.array(token, { minLength: 1, maxLength: 4 }),
  ])(
    "ForAllValues:StringEquals on kms:EncryptionContextKeys holds iff every context key is listed",
    (contextKeys, allowed) => {
      const context = new Map<string, ContextValue>([
        ["kms:encryptioncontextkeys", { multi: true, values: contextKeys }],
      ]);
      expect(
        decide("ForAllValues:StringEquals", "kms:EncryptionContextKeys", allowed, context),
      ).toBe(contextKeys.every((k) => allowed.includes(k)));
    },
  );
});

describe("aws-local ciphertext properties", () => {
  const key = new LocalKey({ policy: adminKeyPolicy() }, ["us-east-1"]);
  const context = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 6 }),
    fc.string({ maxLength: 6 }),
    { maxKeys: 4 },
  );

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 64 }), context, context])(
    "a ciphertext decrypts under exactly the context it was made with",
    (plaintext, made, presented) => {
      const blob = parseBlob(key.encrypt(Buffer.from(plaintext), made));
      if (blob === undefined) throw new Error("unparseable blob");
      const opened = key.decrypt(blob, presented);
      const same = canonicalContext(made).equals(canonicalContext(presented));
      expect(opened !== undefined).toBe(same);
      if (opened !== undefined) expect(Buffer.from(opened)).toEqual(Buffer.from(plaintext));
    },
  );

  test.prop([
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
    fc.nat(),
    fc.integer({ min: 1, max: 255 }),
  ])(
    "any single-byte change to a ciphertext makes it undecryptable",
    (plaintext, position, flip) => {
      const bytes = key.encrypt(Buffer.from(plaintext), { userId: "u" });
      const index = position % bytes.length;
      bytes[index] = (bytes[index] as number) ^ flip;
      const blob = parseBlob(bytes);
      expect(blob === undefined || key.decrypt(blob, { userId: "u" }) === undefined).toBe(true);
    },
  );
});
