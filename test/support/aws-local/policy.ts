/**
 * A faithful subset of IAM policy evaluation for resource policies (KMS key policies and role trust
 * policies): explicit Deny wins, otherwise some Allow must match, otherwise implicit deny.
 */
import { z } from "zod";
import {
  type Condition,
  evaluateCondition,
  expandVariables,
  globRegex,
  normalizeConditionKey,
  parseOperator,
  type RequestContext,
} from "./conditions.js";

/** A key policy or trust policy in the standard AWS JSON grammar. */
export type PolicyDocument = Readonly<Record<string, unknown>>;

/** Who is asking, as the evaluator sees it. */
export type PolicyPrincipal =
  | {
      readonly kind: "aws";
      readonly accountId: string;
      /** Identifiers a `Principal.AWS` entry may name: session ARN, role ARN or user ARN. */
      readonly arns: readonly string[];
    }
  | { readonly kind: "federated"; readonly provider: string };

export interface PolicyRequest {
  readonly principal: PolicyPrincipal;
  readonly action: string;
  readonly resource: string;
  readonly context: RequestContext;
}

/**
 * `allow-via-account`: the only matching Allow names the principal's account root, which in AWS
 * delegates the decision to the principal's IAM identity policies (the caller must evaluate those).
 */
export type PolicyDecision = "allow" | "allow-via-account" | "explicit-deny" | "implicit-deny";

/** Resource policies (key/trust) name a Principal; identity policies (attached to a role/user) don't. */
export type PolicyKind = "resource" | "identity";

const stringOrList = z.union([z.string(), z.array(z.string()).min(1)]);
const principalSchema = z.union([
  z.literal("*"),
  z
    .object({
      AWS: stringOrList,
      Federated: stringOrList,
      Service: stringOrList,
      CanonicalUser: stringOrList,
    })
    .partial()
    .strict(),
]);
const conditionValue = z.union([
  z.string(),
  z.boolean(),
  z.number(),
  z.array(z.union([z.string(), z.boolean(), z.number()])),
]);
const statementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Principal: principalSchema.optional(),
    NotPrincipal: principalSchema.optional(),
    Action: stringOrList.optional(),
    NotAction: stringOrList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), z.record(z.string(), conditionValue)).optional(),
  })
  .strict();
const documentSchema = z
  .object({
    Version: z.enum(["2012-10-17", "2008-10-17"]).optional(),
    Id: z.string().optional(),
    Statement: z.union([statementSchema, z.array(statementSchema).min(1)]),
  })
  .strict();

type PrincipalSpec = z.infer<typeof principalSchema>;

interface ParsedStatement {
  readonly effect: "Allow" | "Deny";
  readonly principal: PrincipalSpec | undefined;
  readonly notPrincipal: PrincipalSpec | undefined;
  readonly actions: readonly string[] | undefined;
  readonly notActions: readonly string[] | undefined;
  readonly resources: readonly string[] | undefined;
  readonly notResources: readonly string[] | undefined;
  readonly conditions: readonly Condition[];
}

/** A validated policy, ready to evaluate. */
export interface ParsedPolicy {
  readonly kind: PolicyKind;
  readonly statements: readonly ParsedStatement[];
}

const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

/**
 * Validates a policy document (grammar and every condition operator) like `PutKeyPolicy` would.
 * @throws Error whose message starts with `MalformedPolicyDocument` when the document is invalid.
 */
export function parsePolicy(document: unknown, kind: PolicyKind = "resource"): ParsedPolicy {
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) {
    throw new Error(`MalformedPolicyDocument: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  const raw = Array.isArray(parsed.data.Statement)
    ? parsed.data.Statement
    : [parsed.data.Statement];
  const statements = raw.map((s): ParsedStatement => {
    const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
    if (
      kind === "identity"
        ? hasPrincipal
        : (s.Principal === undefined) === (s.NotPrincipal === undefined)
    ) {
      throw new Error(
        kind === "identity"
          ? "MalformedPolicyDocument: identity policies have no Principal"
          : "MalformedPolicyDocument: exactly one of Principal/NotPrincipal is required",
      );
    }
    if ((s.Action === undefined) === (s.NotAction === undefined)) {
      throw new Error("MalformedPolicyDocument: exactly one of Action/NotAction is required");
    }
    if (s.Resource !== undefined && s.NotResource !== undefined) {
      throw new Error("MalformedPolicyDocument: Resource and NotResource are exclusive");
    }
    const conditions: Condition[] = [];
    for (const [operatorName, block] of Object.entries(s.Condition ?? {})) {
      const operator = parseOperator(operatorName);
      for (const [key, value] of Object.entries(block)) {
        const values = (Array.isArray(value) ? value : [value]).map(String);
        conditions.push({ ...operator, key: normalizeConditionKey(key), values });
      }
    }
    return {
      effect: s.Effect,
      principal: s.Principal,
      notPrincipal: s.NotPrincipal,
      actions: list(s.Action),
      notActions: list(s.NotAction),
      resources: list(s.Resource),
      notResources: list(s.NotResource),
      conditions,
    };
  });
  return { kind, statements };
}

type PrincipalMatch = "direct" | "account" | null;

function awsPrincipalMatch(id: string, principal: PolicyPrincipal): PrincipalMatch {
  if (principal.kind !== "aws") return null;
  if (id === "*") return "direct";
  // The account root (or bare account id) names the whole account: for an Allow this delegates to
  // the principal's IAM identity policies; a Deny applies to every principal of the account.
  const root = /^(?:arn:aws:iam::)?(\d{12})(?::root)?$/.exec(id);
  if (root !== null) return root[1] === principal.accountId ? "account" : null;
  return principal.arns.includes(id) ? "direct" : null;
}

function principalMatch(spec: PrincipalSpec, principal: PolicyPrincipal): PrincipalMatch {
  if (spec === "*") return "direct";
  if (principal.kind === "federated") {
    return (list(spec.Federated) ?? []).some((p) => p === principal.provider) ? "direct" : null;
  }
  let best: PrincipalMatch = null;
  for (const id of list(spec.AWS) ?? []) {
    const m = awsPrincipalMatch(id, principal);
    if (m === "direct") return m;
    best = best ?? m;
  }
  return best;
}

function anyGlob(
  patterns: readonly string[],
  value: string,
  context: RequestContext,
  ci: boolean,
): boolean {
  return patterns.some((p) => {
    const pieces = expandVariables(p, context);
    return pieces !== undefined && globRegex(pieces, ci).test(value);
  });
}

function statementApplies(
  s: ParsedStatement,
  request: PolicyRequest,
  kind: PolicyKind,
): PrincipalMatch {
  let match: PrincipalMatch;
  if (kind === "identity") match = "direct";
  else if (s.principal !== undefined) match = principalMatch(s.principal, request.principal);
  else
    match =
      principalMatch(s.notPrincipal as PrincipalSpec, request.principal) === null ? "direct" : null;
  if (match === null) return null;
  const actionOk =
    s.actions !== undefined
      ? anyGlob(s.actions, request.action, request.context, true)
      : !anyGlob(s.notActions ?? [], request.action, request.context, true);
  if (!actionOk) return null;
  const resourceOk =
    s.notResources !== undefined
      ? !anyGlob(s.notResources, request.resource, request.context, false)
      : anyGlob(s.resources ?? ["*"], request.resource, request.context, false);
  if (!resourceOk) return null;
  return s.conditions.every((c) => evaluateCondition(c, request.context)) ? match : null;
}

/**
 * Evaluates a parsed policy for one request: an applicable Deny → `explicit-deny`; else an
 * applicable Allow naming the principal (or `*`) → `allow`; else an applicable Allow naming only
 * the principal's account → `allow-via-account`; else `implicit-deny`.
 */
export function evaluatePolicy(policy: ParsedPolicy, request: PolicyRequest): PolicyDecision {
  let allowed: PrincipalMatch = null;
  for (const statement of policy.statements) {
    const match = statementApplies(statement, request, policy.kind);
    if (match === null) continue;
    if (statement.effect === "Deny") return "explicit-deny";
    if (allowed !== "direct") allowed = match;
  }
  return allowed === "direct"
    ? "allow"
    : allowed === "account"
      ? "allow-via-account"
      : "implicit-deny";
}
