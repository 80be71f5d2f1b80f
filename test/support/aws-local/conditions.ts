/**
 * IAM condition operators and policy variables, as used by the key-policy and trust-policy
 * evaluator in `policy.ts`. Semantics follow the IAM JSON policy reference:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 */

/** A request-context value: single-valued keys hold one string, multivalued keys a set. */
export interface ContextValue {
  readonly multi: boolean;
  readonly values: readonly string[];
}

/** Request context, keyed by {@link normalizeConditionKey}. */
export type RequestContext = ReadonlyMap<string, ContextValue>;

/**
 * Condition-key names are case-insensitive, except the encryption-context key after
 * `kms:EncryptionContext:`, which this server matches case-sensitively (the context itself is an
 * exact, case-sensitive AAD match in KMS; see the GrantConstraints API reference).
 */
export function normalizeConditionKey(name: string): string {
  const prefix = "kms:encryptioncontext:";
  const lower = name.toLowerCase();
  return lower.startsWith(prefix) ? prefix + name.slice(prefix.length) : lower;
}

type Family = "string" | "string-ci" | "like" | "arn" | "numeric" | "date" | "bool";
interface OperatorSpec {
  readonly family: Family;
  readonly negated: boolean;
  readonly compare?: "eq" | "lt" | "le" | "gt" | "ge";
}

const OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: { family: "string", negated: false },
  StringNotEquals: { family: "string", negated: true },
  StringEqualsIgnoreCase: { family: "string-ci", negated: false },
  StringNotEqualsIgnoreCase: { family: "string-ci", negated: true },
  StringLike: { family: "like", negated: false },
  StringNotLike: { family: "like", negated: true },
  ArnEquals: { family: "arn", negated: false },
  ArnLike: { family: "arn", negated: false },
  ArnNotEquals: { family: "arn", negated: true },
  ArnNotLike: { family: "arn", negated: true },
  NumericEquals: { family: "numeric", negated: false, compare: "eq" },
  NumericNotEquals: { family: "numeric", negated: true, compare: "eq" },
  NumericLessThan: { family: "numeric", negated: false, compare: "lt" },
  NumericLessThanEquals: { family: "numeric", negated: false, compare: "le" },
  NumericGreaterThan: { family: "numeric", negated: false, compare: "gt" },
  NumericGreaterThanEquals: { family: "numeric", negated: false, compare: "ge" },
  DateEquals: { family: "date", negated: false, compare: "eq" },
  DateNotEquals: { family: "date", negated: true, compare: "eq" },
  DateLessThan: { family: "date", negated: false, compare: "lt" },
  DateLessThanEquals: { family: "date", negated: false, compare: "le" },
  DateGreaterThan: { family: "date", negated: false, compare: "gt" },
  DateGreaterThanEquals: { family: "date", negated: false, compare: "ge" },
  Bool: { family: "bool", negated: false },
};

/** One parsed condition: `[qualifier:]Operator[IfExists]` → key → values. */
export interface Condition {
  readonly qualifier: "ForAllValues" | "ForAnyValue" | null;
  readonly operator: string;
  readonly ifExists: boolean;
  readonly key: string;
  readonly values: readonly string[];
}

/** Parses an operator name; throws on anything IAM would reject as a malformed policy. */
export function parseOperator(name: string): Omit<Condition, "key" | "values"> {
  let rest = name;
  let qualifier: Condition["qualifier"] = null;
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const q = rest.slice(0, colon);
    if (q !== "ForAllValues" && q !== "ForAnyValue") {
      throw new Error(`MalformedPolicyDocument: unknown set operator '${q}'`);
    }
    qualifier = q;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith("IfExists")) {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  if (rest === "Null") {
    if (ifExists || qualifier !== null) {
      throw new Error("MalformedPolicyDocument: Null takes no IfExists or set qualifier");
    }
  } else if (!Object.hasOwn(OPERATORS, rest)) {
    throw new Error(`MalformedPolicyDocument: unsupported condition operator '${name}'`);
  }
  return { qualifier, operator: rest, ifExists };
}

/** A template piece: `literal` pieces came from a variable or escape and never act as wildcards. */
interface Piece {
  readonly text: string;
  readonly literal: boolean;
}

const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * Expands policy variables (`${aws:PrincipalTag/userId}`, `${key, 'default'}`, and the escapes
 * `${*}`, `${?}`, `${$}`). Returns `undefined` when a variable has no single value and no default,
 * so the policy value matches nothing (fail closed).
 */
export function expandVariables(template: string, context: RequestContext): Piece[] | undefined {
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of template.matchAll(VARIABLE)) {
    const index = m.index ?? 0;
    if (index > last) pieces.push({ text: template.slice(last, index), literal: false });
    last = index + m[0].length;
    const inner = (m[1] ?? "").trim();
    if (inner === "*" || inner === "?" || inner === "$") {
      pieces.push({ text: inner, literal: true });
      continue;
    }
    const withDefault = /^([^,]+?)\s*,\s*'([^']*)'$/.exec(inner);
    const key = withDefault ? (withDefault[1] as string) : inner;
    const found = context.get(normalizeConditionKey(key));
    if (found !== undefined && !found.multi && found.values.length === 1) {
      pieces.push({ text: found.values[0] as string, literal: true });
    } else if (withDefault) {
      pieces.push({ text: withDefault[2] as string, literal: true });
    } else {
      return undefined;
    }
  }
  if (last < template.length) pieces.push({ text: template.slice(last), literal: false });
  return pieces;
}

/** Glob (`*`, `?`) regex over pieces; literal pieces are escaped. */
export function globRegex(pieces: readonly Piece[], caseInsensitive: boolean): RegExp {
  const body = pieces
    .map((p) => {
      const escaped = p.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return p.literal ? escaped : escaped.replace(/\\\*/g, ".*").replace(/\\\?/g, ".");
    })
    .join("");
  return new RegExp(`^${body}$`, caseInsensitive ? "is" : "s");
}

function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(":");
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

function toTime(value: string): number {
  return /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
}

function compare(spec: OperatorSpec, a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (spec.compare) {
    case "lt":
      return a < b;
    case "le":
      return a <= b;
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
    default:
      return a === b;
  }
}

/** Does one request value match one (expanded) policy value under the operator's positive form? */
function matchOne(spec: OperatorSpec, requestValue: string, pieces: readonly Piece[]): boolean {
  const policyValue = pieces.map((p) => p.text).join("");
  switch (spec.family) {
    case "string":
      return requestValue === policyValue;
    case "string-ci":
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case "like":
      return globRegex(pieces, false).test(requestValue);
    case "arn": {
      const req = arnParts(requestValue);
      const pol = arnParts(policyValue);
      if (req === undefined || pol === undefined) return false;
      return pol.every((part, i) =>
        globRegex([{ text: part, literal: false }], false).test(req[i] as string),
      );
    }
    case "numeric":
      return compare(spec, Number(requestValue), Number(policyValue));
    case "date":
      return compare(spec, toTime(requestValue), toTime(policyValue));
    case "bool":
      return requestValue.toLowerCase() === policyValue.toLowerCase();
  }
}

/**
 * Evaluates one condition against the request context (all conditions of a statement are ANDed by
 * the caller; the values listed for one key are ORed here).
 *
 * - Missing key: positive operators → false, negated (`…Not…`) → true, `…IfExists` → true.
 * - `Null`: value `"true"` matches when the key is absent, `"false"` when present.
 * - `ForAllValues:` → true when the key is absent or empty, else every request value must match
 *   (for negated operators: match none of the policy values).
 * - `ForAnyValue:` → false when absent or empty, else at least one request value must match.
 * - A multivalued key without a qualifier behaves like `ForAnyValue:` (negated: like its complement).
 * - Policy values whose variables cannot be resolved are dropped (they match nothing).
 */
export function evaluateCondition(condition: Condition, context: RequestContext): boolean {
  const found = context.get(condition.key);
  const present = found !== undefined && found.values.length > 0;
  if (condition.operator === "Null") {
    return condition.values.some((v) => (v.toLowerCase() === "true") === !present);
  }
  const spec = OPERATORS[condition.operator] as OperatorSpec;
  const expanded = condition.values
    .map((v) => expandVariables(v, context))
    .filter((p): p is Piece[] => p !== undefined);
  const matchesAny = (rv: string): boolean => expanded.some((pieces) => matchOne(spec, rv, pieces));
  const satisfies = (rv: string): boolean => (spec.negated ? !matchesAny(rv) : matchesAny(rv));
  if (condition.qualifier === "ForAllValues") {
    return !present || found.values.every(satisfies);
  }
  if (condition.qualifier === "ForAnyValue") {
    if (!present) return condition.ifExists && found === undefined;
    return found.values.some(satisfies);
  }
  if (!present) return condition.ifExists || spec.negated;
  if (found.multi) {
    return spec.negated ? found.values.every(satisfies) : found.values.some(satisfies);
  }
  return found.values.every(satisfies);
}
