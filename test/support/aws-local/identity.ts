/**
 * Principals and credentials known to the local server: static long-term IAM user keys (the
 * "operator"/admin) and temporary STS session credentials, plus SigV4 authentication of a request
 * against them.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { ContextValue } from "./conditions.js";
import {
  headerMap,
  parseAuthorization,
  type SigV4Failure,
  verifySignature,
  type WireRequest,
} from "./sigv4.js";

/** A caller as the policy evaluator and the counters see it. */
export interface CallerPrincipal {
  readonly kind: "user" | "assumed-role";
  /** Caller ARN: `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  readonly arn: string;
  readonly accountId: string;
  /** `aws:PrincipalArn`: the user ARN, or the role ARN for an assumed-role session. */
  readonly principalArn: string;
  /** `aws:userid`: `AIDA…` for users, `AROA…:<session>` for sessions. */
  readonly userId: string;
  /** Session tags (`aws:PrincipalTag/<key>`), keys as issued. */
  readonly tags: Readonly<Record<string, string>>;
  readonly sourceIdentity?: string;
  readonly tokenIssueTimeMs?: number;
  /** The web identity token's `sub`, for sessions. */
  readonly webIdentitySubject?: string;
}

interface CredentialRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
  expiresAtMs: number | undefined;
  readonly principal: CallerPrincipal;
}

/** Public, secret-free view of an issued STS session. */
export interface SessionInfo {
  readonly accessKeyId: string;
  readonly arn: string;
  readonly roleArn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Random AWS-looking identifier: `prefix` + `length` base32 characters. */
export function randomAwsId(prefix: string, length = 16): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += BASE32[b % 32];
  return out;
}

/** Registry of every access key the server accepts. */
export class CredentialRegistry {
  readonly #byAccessKey = new Map<string, CredentialRecord>();

  /** Registers static long-term credentials for an IAM user. */
  addUser(accessKeyId: string, secretAccessKey: string, userArn: string, accountId: string): void {
    if (this.#byAccessKey.has(accessKeyId)) throw new Error(`duplicate access key ${accessKeyId}`);
    const name = userArn.slice(userArn.lastIndexOf("/") + 1);
    this.#byAccessKey.set(accessKeyId, {
      accessKeyId,
      secretAccessKey,
      sessionToken: undefined,
      expiresAtMs: undefined,
      principal: {
        kind: "user",
        arn: userArn,
        accountId,
        principalArn: userArn,
        userId: `AIDA${name
          .toUpperCase()
          .replace(/[^A-Z0-9]/g, "")
          .padEnd(12, "X")
          .slice(0, 12)}`,
        tags: {},
      },
    });
  }

  /** Issues temporary credentials for `principal`, valid until `expiresAtMs`. */
  issueSession(principal: CallerPrincipal, expiresAtMs: number) {
    const record: CredentialRecord = {
      accessKeyId: randomAwsId("ASIA"),
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: `KWLocal/${randomBytes(96).toString("base64")}`,
      expiresAtMs,
      principal,
    };
    this.#byAccessKey.set(record.accessKeyId, record);
    return record as Readonly<CredentialRecord> & { readonly sessionToken: string };
  }

  lookup(accessKeyId: string): CredentialRecord | undefined {
    return this.#byAccessKey.get(accessKeyId);
  }

  /** Issued sessions (no secrets). */
  sessions(): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const r of this.#byAccessKey.values()) {
      if (r.sessionToken === undefined || r.principal.kind !== "assumed-role") continue;
      out.push({
        accessKeyId: r.accessKeyId,
        arn: r.principal.arn,
        roleArn: r.principal.principalArn,
        tags: r.principal.tags,
        expiresAt: new Date(r.expiresAtMs ?? 0),
      });
    }
    return out;
  }

  /** Marks matching sessions expired now; returns how many. */
  expireSessions(nowMs: number, match: (s: SessionInfo) => boolean): number {
    let n = 0;
    for (const info of this.sessions()) {
      if (!match(info)) continue;
      const record = this.#byAccessKey.get(info.accessKeyId);
      if (record !== undefined) {
        record.expiresAtMs = nowMs - 1;
        n += 1;
      }
    }
    return n;
  }
}

/** Why authentication failed; each protocol maps this onto its own error code and status. */
export type AuthFailure =
  | SigV4Failure
  | "unknown-access-key"
  | "invalid-session-token"
  | "expired-token";

export type AuthResult =
  | { readonly ok: true; readonly principal: CallerPrincipal; readonly region: string }
  | { readonly ok: false; readonly failure: AuthFailure; readonly message: string };

/**
 * Authenticates a SigV4-signed request for `service`: parses the Authorization header, checks the
 * scope's service and region, resolves the access key, checks the session token (constant time)
 * and its expiry, then verifies the signature.
 */
export function authenticate(
  request: WireRequest,
  service: string,
  allowedRegions: ReadonlySet<string>,
  registry: CredentialRegistry,
  nowMs: number,
): AuthResult {
  const headers = headerMap(request.rawHeaders);
  const parsed = parseAuthorization(headers.get("authorization")?.[0]);
  if (!parsed.ok) return parsed;
  const auth = parsed.value;
  if (auth.service !== service) {
    return {
      ok: false,
      failure: "wrong-scope",
      message: `Credential should be scoped to correct service: '${service}'.`,
    };
  }
  if (!allowedRegions.has(auth.region)) {
    return {
      ok: false,
      failure: "wrong-scope",
      message: `Credential should be scoped to a valid region, not '${auth.region}'.`,
    };
  }
  const record = registry.lookup(auth.accessKeyId);
  if (record === undefined) {
    return {
      ok: false,
      failure: "unknown-access-key",
      message: "The security token included in the request is invalid.",
    };
  }
  const presentedToken = headers.get("x-amz-security-token")?.[0];
  /* Precondition: session credentials are accepted only with their own session token, compared in constant time. */
  if (!tokensEqual(record.sessionToken, presentedToken)) {
    return {
      ok: false,
      failure: "invalid-session-token",
      message: "The security token included in the request is invalid.",
    };
  }
  if (record.expiresAtMs !== undefined && nowMs >= record.expiresAtMs) {
    return {
      ok: false,
      failure: "expired-token",
      message: "The security token included in the request is expired",
    };
  }
  const verified = verifySignature(request, auth, record.secretAccessKey, nowMs);
  if (!verified.ok) return verified;
  return { ok: true, principal: record.principal, region: auth.region };
}

function tokensEqual(expected: string | undefined, presented: string | undefined): boolean {
  if (expected === undefined || presented === undefined) return expected === presented;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Global condition keys describing the caller (`aws:PrincipalArn`, `aws:PrincipalTag/…`, …). */
export function principalContext(
  principal: CallerPrincipal,
  region: string,
  nowMs: number,
): Map<string, ContextValue> {
  const single = (v: string): ContextValue => ({ multi: false, values: [v] });
  const ctx = new Map<string, ContextValue>([
    ["aws:principalarn", single(principal.principalArn)],
    ["aws:principalaccount", single(principal.accountId)],
    ["aws:principaltype", single(principal.kind === "user" ? "User" : "AssumedRole")],
    ["aws:userid", single(principal.userId)],
    ["aws:currenttime", single(new Date(nowMs).toISOString())],
    ["aws:epochtime", single(String(Math.floor(nowMs / 1000)))],
    ["aws:securetransport", single("false")],
    ["aws:requestedregion", single(region)],
    ["aws:viaawsservice", single("false")],
  ]);
  if (principal.kind === "user") {
    ctx.set("aws:username", single(principal.arn.slice(principal.arn.lastIndexOf("/") + 1)));
  }
  for (const [key, value] of Object.entries(principal.tags)) {
    ctx.set(`aws:principaltag/${key.toLowerCase()}`, single(value));
  }
  if (principal.sourceIdentity !== undefined) {
    ctx.set("aws:sourceidentity", single(principal.sourceIdentity));
  }
  if (principal.tokenIssueTimeMs !== undefined) {
    ctx.set("aws:tokenissuetime", single(new Date(principal.tokenIssueTimeMs).toISOString()));
  }
  return ctx;
}
