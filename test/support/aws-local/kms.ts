/**
 * KMS operations (`TrentService.*`, AWS JSON 1.1) over the local key store, with key-policy
 * authorization and key-state checks as real KMS does them.
 */
import { randomBytes } from "node:crypto";
import { AwsServiceError } from "./aws-error.js";
import type { ContextValue } from "./conditions.js";
import { type CallerPrincipal, principalContext } from "./identity.js";
import {
  encryptionContext,
  type KmsInput,
  optionalEnum,
  optionalInteger,
  optionalString,
  refuseUnsupported,
  requiredBlob,
  requiredString,
} from "./kms-input.js";
import { type LocalKey, parseBlob } from "./kms-keys.js";
import { evaluatePolicy, type ParsedPolicy, type PolicyDecision } from "./policy.js";

/** What the KMS handlers need from the server. */
export interface KmsEnvironment {
  readonly accountId: string;
  readonly keys: ReadonlyMap<string, LocalKey>;
  /** Alias name (`alias/…`) → key id. */
  readonly aliases: ReadonlyMap<string, string>;
  /** IAM identity policies by user ARN or role ARN (`aws:PrincipalArn`). */
  readonly identityPolicies: ReadonlyMap<string, readonly ParsedPolicy[]>;
  readonly now: () => number;
}

/** One authenticated KMS call. */
export interface KmsCall {
  readonly env: KmsEnvironment;
  readonly principal: CallerPrincipal;
  readonly region: string;
  readonly input: KmsInput;
}

const MAX_CIPHERTEXT = 6144;
const SYMMETRIC = "SYMMETRIC_DEFAULT";

function notFound(message: string): AwsServiceError {
  return new AwsServiceError("NotFoundException", 404, message);
}

/** Resolves a key id, key ARN, alias name or alias ARN to a key that exists in `region`. */
export function resolveKey(
  call: KmsCall,
  keyId: string,
): { key: LocalKey; viaAlias: string | undefined } {
  const { env, region } = call;
  let ref = keyId;
  if (ref.startsWith("arn:")) {
    const m = /^arn:aws:kms:([^:]+):(\d{12}):((?:key|alias)\/.+)$/.exec(ref);
    if (m === null) throw new AwsServiceError("InvalidArnException", 400, `Invalid arn ${keyId}`);
    if (m[1] !== region || m[2] !== env.accountId) throw notFound(`Key '${keyId}' does not exist`);
    ref = (m[3] as string).startsWith("key/") ? (m[3] as string).slice(4) : (m[3] as string);
  }
  let viaAlias: string | undefined;
  if (ref.startsWith("alias/")) {
    viaAlias = ref;
    const id = env.aliases.get(ref);
    if (id === undefined)
      throw notFound(`Alias arn:aws:kms:${region}:${env.accountId}:${ref} is not found.`);
    ref = id;
  }
  const key = env.keys.get(ref);
  if (key === undefined || !key.replicas.has(region)) {
    throw notFound(`Key 'arn:aws:kms:${region}:${env.accountId}:key/${ref}' does not exist`);
  }
  return { key, viaAlias };
}

/**
 * Authorizes `kms:<action>` on `key` for the caller under the key policy of the request region.
 * Extra condition keys (encryption context, algorithms) come from the operation.
 */
export function authorize(
  call: KmsCall,
  key: LocalKey,
  action: string,
  extra: ReadonlyMap<string, ContextValue>,
): void {
  const { env, principal, region } = call;
  const replica = key.replicas.get(region);
  const arn = key.arn(region, env.accountId);
  const context = principalContext(principal, region, env.now());
  const single = (v: string): ContextValue => ({ multi: false, values: [v] });
  context.set("kms:calleraccount", single(principal.accountId));
  context.set("kms:keyspec", single(key.spec));
  context.set("kms:keyusage", single(key.usage));
  context.set("kms:keyorigin", single("AWS_KMS"));
  context.set("kms:multiregion", single(String(key.multiRegion)));
  for (const [k, v] of extra) context.set(k, v);
  const request = {
    principal: {
      kind: "aws",
      accountId: principal.accountId,
      arns: [principal.arn, principal.principalArn],
    },
    action: `kms:${action}`,
    resource: arn,
    context,
  } as const;
  /* Precondition: an explicit Deny in the key policy or an identity policy overrides every Allow. */
  // Key policy first; an Allow naming only the account root delegates to the caller's IAM identity
  // policies, and an explicit Deny in either place wins.
  let decision: PolicyDecision =
    replica === undefined ? "implicit-deny" : evaluatePolicy(replica.policy, request);
  const identity = (env.identityPolicies.get(principal.principalArn) ?? []).map((p) =>
    evaluatePolicy(p, request),
  );
  const identityDenies = identity.includes("explicit-deny");
  if (decision === "allow-via-account") {
    decision = identity.includes("allow") ? "allow" : "implicit-deny";
  }
  if (decision === "allow" && !identityDenies) return;
  const why =
    decision === "explicit-deny"
      ? "with an explicit deny in a resource-based policy"
      : identityDenies
        ? "with an explicit deny in an identity-based policy"
        : `because no resource-based policy allows the kms:${action} action`;
  throw new AwsServiceError(
    "AccessDeniedException",
    400,
    `User: ${principal.arn} is not authorized to perform: kms:${action} on resource: ${arn} ${why}`,
  );
}

/** Condition keys for an encryption context (`kms:EncryptionContext:<k>`, `kms:EncryptionContextKeys`). */
export function contextKeys(context: Readonly<Record<string, string>>): Map<string, ContextValue> {
  const out = new Map<string, ContextValue>();
  for (const [k, v] of Object.entries(context)) {
    out.set(`kms:encryptioncontext:${k}`, { multi: false, values: [v] });
  }
  out.set("kms:encryptioncontextkeys", { multi: true, values: Object.keys(context) });
  return out;
}

/** Key state check: Disabled → DisabledException, other non-Enabled → KMSInvalidStateException. */
export function requireEnabled(call: KmsCall, key: LocalKey): void {
  const state = key.replicas.get(call.region)?.state;
  const arn = key.arn(call.region, call.env.accountId);
  if (state === "Enabled") return;
  if (state === "Disabled")
    throw new AwsServiceError("DisabledException", 409, `${arn} is disabled.`);
  const what = state === "PendingDeletion" ? "pending deletion" : `${state ?? "unavailable"}`;
  throw new AwsServiceError("KMSInvalidStateException", 409, `${arn} is ${what}.`);
}

export function requireUsage(
  key: LocalKey,
  usage: "ENCRYPT_DECRYPT" | "SIGN_VERIFY",
  arn: string,
): void {
  if (key.usage !== usage) {
    throw new AwsServiceError(
      "InvalidKeyUsageException",
      400,
      `${arn} key usage is ${key.usage} which is not valid for this operation.`,
    );
  }
}

/** Common pre-flight: unsupported fields, grant tokens, dry run. */
export function preflight(call: KmsCall): void {
  refuseUnsupported(call.input, ["Recipient", "DryRunModifiers"]);
  const grants = call.input.GrantTokens;
  if (Array.isArray(grants) && grants.length > 0) {
    throw new AwsServiceError(
      "InvalidGrantTokenException",
      400,
      "Grant tokens are not supported by aws-local.",
    );
  }
}

function dryRun(call: KmsCall): void {
  if (call.input.DryRun === true) {
    throw new AwsServiceError(
      "DryRunOperationException",
      412,
      "The request would have succeeded, but the DryRun option is set.",
    );
  }
}

function invalidCiphertext(): AwsServiceError {
  return new AwsServiceError("InvalidCiphertextException", 400, "");
}

/** Finds the key named inside a ciphertext blob (and checks an optional `KeyId` names the same key). */
function keyForBlob(
  call: KmsCall,
  blob: Buffer,
  keyIdField: string,
): { key: LocalKey; parsed: NonNullable<ReturnType<typeof parseBlob>> } {
  const parsed = parseBlob(blob);
  if (parsed === undefined) throw invalidCiphertext();
  // A blob naming no key of this region is invalid ciphertext here (blobs are opaque to callers).
  const key = call.env.keys.get(parsed.keyId);
  if (key === undefined || !key.replicas.has(call.region)) throw invalidCiphertext();
  const named = optionalString(call.input, keyIdField);
  if (named !== undefined && resolveKey(call, named).key !== key) {
    throw new AwsServiceError(
      "IncorrectKeyException",
      400,
      "The key ID in the request does not identify a KMS key that can perform this operation.",
    );
  }
  return { key, parsed };
}

function dataKeyLength(call: KmsCall): number {
  const spec = optionalEnum(call.input, "KeySpec", ["AES_256", "AES_128"] as const);
  const bytes = optionalInteger(call.input, "NumberOfBytes", 1, 1024);
  if ((spec === undefined) === (bytes === undefined)) {
    throw new AwsServiceError(
      "ValidationException",
      400,
      "Please specify either number of bytes or key spec.",
    );
  }
  return bytes ?? (spec === "AES_128" ? 16 : 32);
}

function generateDataKey(call: KmsCall, withPlaintext: boolean): Record<string, unknown> {
  preflight(call);
  const { key } = resolveKey(call, requiredString(call.input, "KeyId"));
  const length = dataKeyLength(call);
  const context = encryptionContext(call.input, "EncryptionContext");
  const arn = key.arn(call.region, call.env.accountId);
  authorize(
    call,
    key,
    withPlaintext ? "GenerateDataKey" : "GenerateDataKeyWithoutPlaintext",
    contextKeys(context),
  );
  requireEnabled(call, key);
  requireUsage(key, "ENCRYPT_DECRYPT", arn);
  dryRun(call);
  const plaintext = randomBytes(length);
  const blob = key.encrypt(plaintext, context);
  const out: Record<string, unknown> = { CiphertextBlob: blob.toString("base64"), KeyId: arn };
  if (withPlaintext) out.Plaintext = plaintext.toString("base64");
  plaintext.fill(0);
  return out;
}

function encrypt(call: KmsCall): Record<string, unknown> {
  preflight(call);
  const { key } = resolveKey(call, requiredString(call.input, "KeyId"));
  const plaintext = requiredBlob(call.input, "Plaintext", 4096);
  const context = encryptionContext(call.input, "EncryptionContext");
  optionalEnum(call.input, "EncryptionAlgorithm", [SYMMETRIC]);
  const arn = key.arn(call.region, call.env.accountId);
  authorize(call, key, "Encrypt", contextKeys(context));
  requireEnabled(call, key);
  requireUsage(key, "ENCRYPT_DECRYPT", arn);
  dryRun(call);
  const blob = key.encrypt(plaintext, context);
  plaintext.fill(0);
  return { CiphertextBlob: blob.toString("base64"), KeyId: arn, EncryptionAlgorithm: SYMMETRIC };
}

function decrypt(call: KmsCall): Record<string, unknown> {
  preflight(call);
  const blob = requiredBlob(call.input, "CiphertextBlob", MAX_CIPHERTEXT);
  const context = encryptionContext(call.input, "EncryptionContext");
  optionalEnum(call.input, "EncryptionAlgorithm", [SYMMETRIC]);
  const { key, parsed } = keyForBlob(call, blob, "KeyId");
  const arn = key.arn(call.region, call.env.accountId);
  /* Precondition: key-policy authorization runs before the key state and the ciphertext are examined. */
  authorize(call, key, "Decrypt", contextKeys(context));
  requireEnabled(call, key);
  requireUsage(key, "ENCRYPT_DECRYPT", arn);
  dryRun(call);
  const plaintext = key.decrypt(parsed, context);
  if (plaintext === undefined) throw invalidCiphertext();
  const out = {
    KeyId: arn,
    Plaintext: plaintext.toString("base64"),
    EncryptionAlgorithm: SYMMETRIC,
  };
  plaintext.fill(0);
  return out;
}

function reEncrypt(call: KmsCall): Record<string, unknown> {
  preflight(call);
  const blob = requiredBlob(call.input, "CiphertextBlob", MAX_CIPHERTEXT);
  const sourceContext = encryptionContext(call.input, "SourceEncryptionContext");
  const destinationContext = encryptionContext(call.input, "DestinationEncryptionContext");
  optionalEnum(call.input, "SourceEncryptionAlgorithm", [SYMMETRIC]);
  optionalEnum(call.input, "DestinationEncryptionAlgorithm", [SYMMETRIC]);
  const source = keyForBlob(call, blob, "SourceKeyId");
  const { key: destination } = resolveKey(call, requiredString(call.input, "DestinationKeyId"));
  const sameKey = { multi: false, values: [String(source.key === destination)] } as const;
  const from = contextKeys(sourceContext).set("kms:reencryptonsamekey", sameKey);
  const to = contextKeys(destinationContext).set("kms:reencryptonsamekey", sameKey);
  authorize(call, source.key, "ReEncryptFrom", from);
  authorize(call, destination, "ReEncryptTo", to);
  requireEnabled(call, source.key);
  requireEnabled(call, destination);
  const sourceArn = source.key.arn(call.region, call.env.accountId);
  const destinationArn = destination.arn(call.region, call.env.accountId);
  requireUsage(source.key, "ENCRYPT_DECRYPT", sourceArn);
  requireUsage(destination, "ENCRYPT_DECRYPT", destinationArn);
  dryRun(call);
  const plaintext = source.key.decrypt(source.parsed, sourceContext);
  if (plaintext === undefined) throw invalidCiphertext();
  const out = destination.encrypt(plaintext, destinationContext);
  plaintext.fill(0);
  return {
    CiphertextBlob: out.toString("base64"),
    SourceKeyId: sourceArn,
    KeyId: destinationArn,
    SourceEncryptionAlgorithm: SYMMETRIC,
    DestinationEncryptionAlgorithm: SYMMETRIC,
  };
}

/** The KMS operations this server implements, by `X-Amz-Target` suffix. */
export const symmetricOperations: Readonly<
  Record<string, (call: KmsCall) => Record<string, unknown>>
> = {
  GenerateDataKey: (call) => generateDataKey(call, true),
  GenerateDataKeyWithoutPlaintext: (call) => generateDataKey(call, false),
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
};
