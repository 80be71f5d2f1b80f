/**
 * STS (Query protocol, `Version=2011-06-15`): `AssumeRoleWithWebIdentity` verifying the web
 * identity JWT against a local JWKS, checking the role trust policy and issuing temporary
 * credentials that carry the token's session tags; and `GetCallerIdentity`.
 */
import { createLocalJWKSet, decodeJwt, errors, type JSONWebKeySet, jwtVerify } from "jose";
import { AwsServiceError } from "./aws-error.js";
import type { ContextValue } from "./conditions.js";
import { type CallerPrincipal, type CredentialRegistry, randomAwsId } from "./identity.js";
import { evaluatePolicy, type ParsedPolicy, type PolicyDocument, parsePolicy } from "./policy.js";
import { parseSessionTags } from "./session-tags.js";

/** An IAM OIDC identity provider: tokens with this `iss` are verified against `jwks`. */
export interface OidcProviderOptions {
  /** Exact `iss` claim, e.g. `"https://auth.example.com/"`. */
  readonly issuer: string;
  /** Accepted `aud` values (the provider's client ids). */
  readonly audiences: readonly string[];
  /** Public keys (JWKS). Only asymmetric algorithms are accepted. */
  readonly jwks: JSONWebKeySet;
}

/** An IAM role that web identities may assume. */
export interface RoleOptions {
  /** `arn:aws:iam::<account>:role/<name>` (a path is allowed). */
  readonly arn: string;
  /** Trust policy; `Principal.Federated` names the provider ARN. */
  readonly trustPolicy: PolicyDocument;
  /** Maximum `DurationSeconds` (default 3600; AWS allows up to 43200). */
  readonly maxSessionDurationSeconds?: number;
}

interface Provider extends OidcProviderOptions {
  readonly arn: string;
  /** Condition-key prefix: the issuer URL without scheme and trailing slash. */
  readonly host: string;
  readonly keys: ReturnType<typeof createLocalJWKSet>;
}

interface Role {
  readonly arn: string;
  readonly name: string;
  readonly id: string;
  readonly trust: ParsedPolicy;
  readonly maxSessionDurationSeconds: number;
}

/** Asymmetric JWS algorithms STS accepts; HS* (shared secrets) are refused. */
const ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];

export class StsService {
  readonly #accountId: string;
  readonly #providers: Provider[];
  readonly #roles = new Map<string, Role>();
  readonly #registry: CredentialRegistry;
  readonly #now: () => number;

  constructor(
    accountId: string,
    providers: readonly OidcProviderOptions[],
    roles: readonly RoleOptions[],
    registry: CredentialRegistry,
    now: () => number,
  ) {
    this.#accountId = accountId;
    this.#registry = registry;
    this.#now = now;
    this.#providers = providers.map((p) => {
      const host = p.issuer.replace(/^https:\/\//, "").replace(/\/+$/, "");
      if (!p.issuer.startsWith("https://") || host.length === 0) {
        throw new Error(`OIDC issuer must be an https URL: ${p.issuer}`);
      }
      return {
        ...p,
        host,
        arn: `arn:aws:iam::${accountId}:oidc-provider/${host}`,
        keys: createLocalJWKSet(p.jwks),
      };
    });
    for (const r of roles) {
      const m = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/.exec(r.arn);
      if (m === null || m[1] !== accountId)
        throw new Error(`invalid role ARN for account ${accountId}: ${r.arn}`);
      this.#roles.set(r.arn, {
        arn: r.arn,
        name: m[2] as string,
        id: randomAwsId("AROA", 17),
        trust: parsePolicy(r.trustPolicy),
        maxSessionDurationSeconds: r.maxSessionDurationSeconds ?? 3600,
      });
    }
  }

  /** `Action=AssumeRoleWithWebIdentity` → the `<…Result>` XML body. */
  async assumeRoleWithWebIdentity(
    params: URLSearchParams,
  ): Promise<{ xml: string; principal: CallerPrincipal }> {
    const roleArn = param(params, "RoleArn", 20, 2048);
    const sessionName = param(params, "RoleSessionName", 2, 64);
    if (!/^[\w+=,.@-]+$/.test(sessionName)) throw validation("RoleSessionName");
    const token = param(params, "WebIdentityToken", 4, 20000);
    for (const unsupported of ["Policy", "PolicyArns.member.1", "ProviderId"]) {
      if (params.has(unsupported)) {
        throw new AwsServiceError(
          "ValidationError",
          400,
          `aws-local does not support '${unsupported}'.`,
        );
      }
    }
    const durationText = params.get("DurationSeconds");
    const duration = durationText === null ? 3600 : Number(durationText);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200)
      throw validation("DurationSeconds");

    const { claims, provider, audience } = await this.#verifyToken(token);
    const tags = parseSessionTags(claims["https://aws.amazon.com/tags"]);
    const sourceIdentity = claims["https://aws.amazon.com/source_identity"];
    if (sourceIdentity !== undefined && typeof sourceIdentity !== "string") {
      throw new AwsServiceError("InvalidIdentityToken", 400, "Invalid source identity claim.");
    }

    const role = this.#roles.get(roleArn);
    const notAuthorized = new AwsServiceError(
      "AccessDenied",
      403,
      "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );
    if (role === undefined) throw notAuthorized;
    if (duration > role.maxSessionDurationSeconds) {
      throw new AwsServiceError(
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      );
    }
    const nowMs = this.#now();
    const single = (v: string): ContextValue => ({ multi: false, values: [v] });
    const context = new Map<string, ContextValue>([
      [`${provider.host}:aud`.toLowerCase(), single(audience)],
      [`${provider.host}:sub`.toLowerCase(), single(claims.sub as string)],
      ["aws:federatedprovider", single(provider.arn)],
      ["aws:currenttime", single(new Date(nowMs).toISOString())],
      ["aws:epochtime", single(String(Math.floor(nowMs / 1000)))],
      ["aws:tagkeys", { multi: true, values: Object.keys(tags) }],
    ]);
    for (const [k, v] of Object.entries(tags))
      context.set(`aws:requesttag/${k.toLowerCase()}`, single(v));
    if (sourceIdentity !== undefined) context.set("aws:sourceidentity", single(sourceIdentity));
    const actions = ["sts:AssumeRoleWithWebIdentity"];
    if (Object.keys(tags).length > 0) actions.push("sts:TagSession");
    if (sourceIdentity !== undefined) actions.push("sts:SetSourceIdentity");
    for (const action of actions) {
      const decision = evaluatePolicy(role.trust, {
        principal: { kind: "federated", provider: provider.arn },
        action,
        resource: role.arn,
        context,
      });
      if (decision !== "allow") throw notAuthorized;
    }

    const arn = `arn:aws:sts::${this.#accountId}:assumed-role/${role.name}/${sessionName}`;
    const principal: CallerPrincipal = {
      kind: "assumed-role",
      arn,
      accountId: this.#accountId,
      principalArn: role.arn,
      userId: `${role.id}:${sessionName}`,
      tags,
      tokenIssueTimeMs: nowMs,
      webIdentitySubject: claims.sub as string,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    };
    const expiresAtMs = Math.floor(nowMs / 1000) * 1000 + duration * 1000;
    const creds = this.#registry.issueSession(principal, expiresAtMs);
    const xml = [
      `<SubjectFromWebIdentityToken>${escapeXml(claims.sub as string)}</SubjectFromWebIdentityToken>`,
      `<Audience>${escapeXml(audience)}</Audience>`,
      `<AssumedRoleUser><Arn>${escapeXml(arn)}</Arn><AssumedRoleId>${escapeXml(principal.userId)}</AssumedRoleId></AssumedRoleUser>`,
      "<Credentials>",
      `<AccessKeyId>${creds.accessKeyId}</AccessKeyId>`,
      `<SecretAccessKey>${escapeXml(creds.secretAccessKey)}</SecretAccessKey>`,
      `<SessionToken>${escapeXml(creds.sessionToken)}</SessionToken>`,
      `<Expiration>${new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, "Z")}</Expiration>`,
      "</Credentials>",
      sourceIdentity !== undefined
        ? `<SourceIdentity>${escapeXml(sourceIdentity)}</SourceIdentity>`
        : "",
      `<Provider>${escapeXml(provider.issuer)}</Provider>`,
    ].join("");
    return { xml, principal };
  }

  /** `Action=GetCallerIdentity` for an authenticated caller. */
  getCallerIdentity(principal: CallerPrincipal): string {
    return `<Arn>${escapeXml(principal.arn)}</Arn><UserId>${escapeXml(principal.userId)}</UserId><Account>${principal.accountId}</Account>`;
  }

  async #verifyToken(token: string) {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new AwsServiceError(
        "InvalidIdentityToken",
        400,
        "The web identity token is malformed.",
      );
    }
    const provider = this.#providers.find((p) => p.issuer === issuer);
    if (provider === undefined) {
      throw new AwsServiceError(
        "InvalidIdentityToken",
        400,
        `No OpenIDConnect provider found in your account for ${String(issuer)}`,
      );
    }
    try {
      const { payload } = await jwtVerify(token, provider.keys, {
        issuer: provider.issuer,
        audience: [...provider.audiences],
        algorithms: ALGORITHMS,
        requiredClaims: ["sub", "exp"],
        currentDate: new Date(this.#now()),
      });
      if (typeof payload.sub !== "string" || payload.sub.length === 0)
        throw new errors.JWTInvalid("sub");
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      const audience = aud.find(
        (a): a is string => typeof a === "string" && provider.audiences.includes(a),
      ) as string;
      return { claims: payload, provider, audience };
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw new AwsServiceError(
          "ExpiredTokenException",
          400,
          "Token expired: current date/time must be before the expiration date/time.",
        );
      }
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") {
        throw new AwsServiceError("InvalidIdentityToken", 400, "Incorrect token audience");
      }
      throw new AwsServiceError(
        "InvalidIdentityToken",
        400,
        "The web identity token could not be verified.",
      );
    }
  }
}

function validation(name: string): AwsServiceError {
  return new AwsServiceError(
    "ValidationError",
    400,
    `1 validation error detected: Value at '${name}' failed to satisfy constraint.`,
  );
}

function param(params: URLSearchParams, name: string, min: number, max: number): string {
  const value = params.get(name);
  if (value === null || value.length < min || value.length > max) throw validation(name);
  return value;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Full STS success document for `action` wrapping `resultXml`. */
export function stsResponse(action: string, resultXml: string, requestId: string): string {
  return `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>${resultXml}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

/** STS error document. */
export function stsError(error: AwsServiceError, requestId: string): string {
  const type = error.status >= 500 ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
