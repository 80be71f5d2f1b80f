/** The STS endpoint: Query protocol (form-encoded POST or GET query), XML responses. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsServiceError } from "./aws-error.js";
import { applyFaults, type Outcome, record, type ServerContext, send } from "./exchange.js";
import { type AuthFailure, authenticate } from "./identity.js";
import type { WireRequest } from "./sigv4.js";
import { stsError, stsResponse } from "./sts.js";

const STS_AUTH_ERRORS: Record<AuthFailure, [string, number]> = {
  "missing-authentication": ["MissingAuthenticationToken", 403],
  "incomplete-signature": ["IncompleteSignature", 400],
  "signature-expired": ["SignatureDoesNotMatch", 403],
  "wrong-scope": ["SignatureDoesNotMatch", 403],
  "payload-hash-mismatch": ["SignatureDoesNotMatch", 403],
  "signature-mismatch": ["SignatureDoesNotMatch", 403],
  "unknown-access-key": ["InvalidClientTokenId", 403],
  "invalid-session-token": ["InvalidClientTokenId", 403],
  "expired-token": ["ExpiredToken", 400],
};

/** Serves one STS request; `AssumeRoleWithWebIdentity` may be unsigned, every other action must be signed. */
export async function handleSts(
  ctx: ServerContext,
  wire: WireRequest,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const form = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
  const params = new URLSearchParams(form ? wire.body.toString("utf8") : wire.query);
  const operation = params.get("Action") ?? "Unknown";
  const outcome: Outcome = { principal: null, region: null };
  const fail = (error: AwsServiceError) => {
    record(ctx, "sts", operation, outcome, error.status, error.code);
    send(res, error.status, "text/xml", stsError(error, requestId), requestId);
  };
  const signed = req.headers.authorization !== undefined;
  // AssumeRoleWithWebIdentity is unsigned in AWS (the token is the credential); a signature, if
  // present, must still verify. Every other action must be signed.
  if (signed || operation !== "AssumeRoleWithWebIdentity") {
    const auth = authenticate(wire, "sts", ctx.stsRegions, ctx.registry, ctx.now());
    if (!auth.ok) {
      const [code, status] = STS_AUTH_ERRORS[auth.failure];
      return fail(new AwsServiceError(code, status, auth.message));
    }
    outcome.principal = auth.principal;
    outcome.region = auth.region;
  }
  const fault = await applyFaults(ctx, "sts", operation, outcome);
  if (fault === "reset") {
    record(ctx, "sts", operation, outcome, 0, "ConnectionReset");
    req.socket.destroy();
    return;
  }
  if (fault === "plain-503") {
    record(ctx, "sts", operation, outcome, 503, "ServiceUnavailable");
    send(res, 503, "text/plain", "Service Unavailable", requestId);
    return;
  }
  if (fault !== null) return fail(fault);
  if (params.get("Version") !== "2011-06-15") {
    return fail(
      new AwsServiceError("InvalidAction", 400, "Could not find operation for this version."),
    );
  }
  try {
    let result: string;
    if (operation === "AssumeRoleWithWebIdentity") {
      const assumed = await ctx.sts.assumeRoleWithWebIdentity(params);
      // Count the request against the session it created, so tests can count STS calls per user.
      outcome.principal = assumed.principal;
      result = assumed.xml;
    } else if (operation === "GetCallerIdentity" && outcome.principal !== null) {
      result = ctx.sts.getCallerIdentity(outcome.principal);
    } else {
      return fail(
        new AwsServiceError(
          "InvalidAction",
          400,
          `Could not find operation ${operation} for version 2011-06-15`,
        ),
      );
    }
    record(ctx, "sts", operation, outcome, 200, null);
    send(res, 200, "text/xml", stsResponse(operation, result, requestId), requestId);
  } catch (error) {
    fail(
      error instanceof AwsServiceError
        ? error
        : new AwsServiceError("InternalFailure", 500, "We encountered an internal error."),
    );
  }
}
