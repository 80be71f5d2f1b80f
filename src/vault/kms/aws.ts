/**
 * `keywarden/vault/aws-kms`: the AWS KMS provider. Data keys are generated and unwrapped by KMS
 * with the credentials of the user's own session — STS AssumeRoleWithWebIdentity with the user's
 * verified JWT (`fromWebToken`) — so the key policy from {@link buildKeyPolicy} can require
 * `kms:EncryptionContext:userId` = `${aws:PrincipalTag/userId}`. Grants use the grant runner's
 * role, which the key policy lets decrypt only grant copies. This is the only file of keywarden
 * that imports the AWS SDK (an optional peer dependency).
 *
 * @packageDocumentation
 */

import { createHash } from "node:crypto";
import type { DecryptCommand, GenerateDataKeyCommand, ReEncryptCommand } from "@aws-sdk/client-kms";
import { KeywardenError } from "../../errors.js";
import { Secret } from "../../secret.js";
import { type RetryOptions, withKmsRetries } from "./errors.js";
import {
  encryptionContextMap,
  type GeneratedDataKey,
  type KmsAuthorization,
  type KmsContext,
  type KmsProvider,
} from "./provider.js";

/** The two AWS SDK packages, loaded on first use so that importing this module never needs them. */
interface AwsSdk {
  readonly kms: typeof import("@aws-sdk/client-kms");
  readonly credentials: typeof import("@aws-sdk/credential-providers");
}
let sdkLoading: Promise<AwsSdk> | undefined;

function loadAwsSdk(): Promise<AwsSdk> {
  sdkLoading ??= Promise.all([
    import("@aws-sdk/client-kms"),
    import("@aws-sdk/credential-providers"),
  ]).then(
    ([kms, credentials]) => ({ kms, credentials }),
    (cause: unknown) => {
      sdkLoading = undefined;
      throw new KeywardenError(
        "ERR_NOT_SUPPORTED",
        "AwsKms needs the optional peers @aws-sdk/client-kms and @aws-sdk/credential-providers (npm install them)",
        { cause },
      );
    },
  );
  return sdkLoading;
}

export { buildKeyPolicy, buildTrustPolicy, type PolicyOptions } from "./aws-policy.js";
export type { RetryOptions } from "./errors.js";

/** The structural subset of `KMSClient` the provider uses: `send` of a command. */
export interface KmsLike {
  send(command: GenerateDataKeyCommand | DecryptCommand | ReEncryptCommand): Promise<unknown>;
  /** Releases sockets; called when a session's client is dropped. */
  destroy?(): void;
}

/** AWS credentials, or a provider of them (e.g. from `@aws-sdk/credential-providers`). */
export type AwsCredentialsLike =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }
  | (() => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
    }>);

/** Options of {@link AwsKms}. */
export interface AwsKmsOptions {
  /** The region this process calls KMS in. */
  readonly region: string;
  /**
   * The KMS key per region: a single-Region key `{ "us-east-1": arn }`, or a multi-Region key's
   * replicas (`mrk-…` ARNs with the same key id), one per region you deploy in.
   */
  readonly keys: Readonly<Record<string, string>>;
  /** Regions tried, in order, when `region` stays unavailable after retries (multi-Region keys). */
  readonly fallbackRegions?: readonly string[];
  /** The role users' sessions assume (see {@link buildTrustPolicy}). */
  readonly sessionRoleArn: string;
  /**
   * STS session duration in seconds (900-43200, at most the role's maximum). Default: the
   * session's remaining lifetime plus the SDK's 5-minute refresh window, clamped to 900-3600, so
   * one STS call covers a session of up to 55 minutes; longer sessions refresh once per duration.
   */
  readonly sessionDurationSeconds?: number;
  /** Credentials of the grant runner role; without them grants cannot be opened on AWS. */
  readonly grantCredentials?: AwsCredentialsLike;
  /** Builds the KMS client for a region and credentials. Default: `new KMSClient({ region, credentials, maxAttempts: 1, ...kmsClientConfig })`. */
  readonly clientFactory?: (params: { region: string; credentials: AwsCredentialsLike }) => KmsLike;
  /** Extra KMSClient configuration (e.g. `endpoint` for a test server). */
  readonly kmsClientConfig?: Readonly<Record<string, unknown>>;
  /** Extra STS client configuration for `fromWebToken` (e.g. `endpoint`, `region`). */
  readonly stsClientConfig?: Readonly<Record<string, unknown>>;
  /** Retry policy for throttling and 5xx. */
  readonly retry?: RetryOptions;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface CachedClient {
  readonly client: KmsLike;
  readonly expiresAt: number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function invalidResponse(): KeywardenError {
  return new KeywardenError("ERR_KMS_UNAVAILABLE", "KMS returned an invalid response");
}

/** Copies `bytes` into a buffer we own and zeroes the SDK's. */
function takeBytes(bytes: unknown, expected?: number): Uint8Array {
  if (!(bytes instanceof Uint8Array) || (expected !== undefined && bytes.length !== expected)) {
    if (bytes instanceof Uint8Array) bytes.fill(0);
    throw invalidResponse();
  }
  const out = new Uint8Array(bytes);
  bytes.fill(0);
  return out;
}

/**
 * The AWS KMS provider.
 *
 * @example
 * ```ts
 * import { AwsKms } from "keywarden/vault/aws-kms";
 * const kms = new AwsKms({
 *   region: "eu-west-1",
 *   keys: { "eu-west-1": "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234" },
 *   sessionRoleArn: "arn:aws:iam::111122223333:role/keywarden-user-session",
 * });
 * const vault = createVault({ kms, store });
 * ```
 */
export class AwsKms implements KmsProvider {
  readonly name = "aws";
  readonly #o: AwsKmsOptions;
  readonly #sessions = new Map<string, CachedClient>();
  readonly #grantClients = new Map<string, KmsLike>();
  readonly #now: () => number;

  /**
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the region has no key or an ARN is invalid.
   */
  constructor(options: AwsKmsOptions) {
    if (!options?.keys || typeof options.keys[options.region] !== "string") {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "AwsKms needs a key for its region");
    }
    for (const r of options.fallbackRegions ?? []) {
      if (typeof options.keys[r] !== "string") {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "every fallback region needs a key");
      }
    }
    if (!ROLE_ARN.test(options.sessionRoleArn)) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "sessionRoleArn must be an IAM role ARN");
    }
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  #sdk: AwsSdk | undefined;

  /** The loaded SDK; every operation loads it first (in #inRegions). */
  #aws(): AwsSdk {
    if (!this.#sdk) throw new KeywardenError("ERR_INTERNAL", "AWS SDK used before it was loaded");
    return this.#sdk;
  }

  #makeClient(region: string, credentials: AwsCredentialsLike): KmsLike {
    if (this.#o.clientFactory) return this.#o.clientFactory({ region, credentials });
    return new (this.#aws().kms.KMSClient)({
      region,
      credentials,
      maxAttempts: 1, // retries are ours: bounded, with jitter, typed errors
      ...(this.#o.kmsClientConfig ?? {}),
    });
  }

  /** One client per (session, region), kept for the session's lifetime: one STS call per session. */
  #client(auth: KmsAuthorization, region: string): KmsLike {
    const now = this.#now();
    if (auth.kind === "grant") {
      const creds = this.#o.grantCredentials;
      /* Precondition: a grant is opened on AWS only with the grant runner's own credentials. */
      if (!creds) throw new KeywardenError("ERR_KMS_ACCESS_DENIED", "access denied");
      let c = this.#grantClients.get(region);
      if (!c) {
        c = this.#makeClient(region, creds);
        this.#grantClients.set(region, c);
      }
      return c;
    }
    for (const [k, v] of this.#sessions) {
      if (v.expiresAt <= now) {
        v.client.destroy?.();
        this.#sessions.delete(k);
      }
    }
    // Keyed by the token itself: session ids are not unique across users (e.g. `iat:<n>`).
    const tokenHash = auth.token.use((t) => createHash("sha256").update(t).digest("hex"));
    const id = `${auth.userId}\u0000${tokenHash}\u0000${region}`;
    const hit = this.#sessions.get(id);
    if (hit) return hit.client;
    const expiresAt = auth.expiresAt ?? now + 900_000;
    const remaining = Math.ceil((expiresAt - now) / 1000);
    const durationSeconds =
      // +300 s: the SDK refreshes credentials 5 minutes before they expire; covering that window
      // keeps it to one STS call for sessions of up to 55 minutes.
      this.#o.sessionDurationSeconds ?? Math.min(3600, Math.max(900, remaining + 300));
    const token = auth.token.useText((t) => t);
    const credentials = this.#aws().credentials.fromWebToken({
      roleArn: this.#o.sessionRoleArn,
      webIdentityToken: token,
      roleSessionName: `kw-${auth.userId.replace(/[^\w+=,.@-]/g, "_")}`.slice(0, 64),
      durationSeconds,
      clientConfig: { region, ...(this.#o.stsClientConfig ?? {}) },
    });
    const client = this.#makeClient(region, credentials);
    this.#sessions.set(id, { client, expiresAt });
    return client;
  }

  /** Runs `op` in the home region, then in each fallback region while KMS stays unavailable. */
  async #inRegions<T>(
    auth: KmsAuthorization,
    op: (client: KmsLike, keyId: string) => Promise<T>,
  ): Promise<T> {
    this.#sdk ??= await loadAwsSdk();
    const regions = [this.#o.region, ...(this.#o.fallbackRegions ?? [])];
    let last: unknown;
    for (const region of regions) {
      const keyId = this.#o.keys[region] as string;
      try {
        return await withKmsRetries(() => op(this.#client(auth, region), keyId), this.#o.retry);
      } catch (err) {
        last = err;
        const code = (err as KeywardenError).code;
        if (code !== "ERR_KMS_UNAVAILABLE" && code !== "ERR_KMS_THROTTLED") throw err;
      }
    }
    throw last;
  }

  #checkAuth(context: KmsContext, auth: KmsAuthorization): void {
    /* Precondition: the authorization must be for the user named in the encryption context. */
    if (auth.userId !== context.userId)
      throw new KeywardenError("ERR_KMS_ACCESS_DENIED", "access denied");
  }

  /** {@inheritDoc KmsProvider.generateDataKey} */
  async generateDataKey(context: KmsContext, auth: KmsAuthorization): Promise<GeneratedDataKey> {
    this.#checkAuth(context, auth);
    return this.#inRegions(auth, async (client, keyId) => {
      const out = (await client.send(
        new (this.#aws().kms.GenerateDataKeyCommand)({
          KeyId: keyId,
          KeySpec: "AES_256",
          EncryptionContext: encryptionContextMap(context),
        }),
      )) as { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array; KeyId?: string };
      const plaintext = takeBytes(out?.Plaintext, 32);
      if (!(out.CiphertextBlob instanceof Uint8Array) || typeof out.KeyId !== "string") {
        plaintext.fill(0);
        throw invalidResponse();
      }
      return {
        plaintext: Secret.fromBytes(plaintext),
        wrapped: new Uint8Array(out.CiphertextBlob),
        keyId: out.KeyId,
      };
    });
  }

  /** {@inheritDoc KmsProvider.decrypt} */
  async decrypt(wrapped: Uint8Array, context: KmsContext, auth: KmsAuthorization): Promise<Secret> {
    this.#checkAuth(context, auth);
    return this.#inRegions(auth, async (client, keyId) => {
      const out = (await client.send(
        new (this.#aws().kms.DecryptCommand)({
          KeyId: keyId,
          CiphertextBlob: wrapped,
          EncryptionContext: encryptionContextMap(context),
        }),
      )) as { Plaintext?: Uint8Array };
      return Secret.fromBytes(takeBytes(out?.Plaintext, 32));
    });
  }

  /** {@inheritDoc KmsProvider.reEncrypt} */
  async reEncrypt(
    wrapped: Uint8Array,
    from: KmsContext,
    to: KmsContext,
    auth: KmsAuthorization,
  ): Promise<{ wrapped: Uint8Array; keyId: string }> {
    this.#checkAuth(from, auth);
    this.#checkAuth(to, auth);
    return this.#inRegions(auth, async (client, keyId) => {
      const out = (await client.send(
        new (this.#aws().kms.ReEncryptCommand)({
          CiphertextBlob: wrapped,
          SourceEncryptionContext: encryptionContextMap(from),
          DestinationKeyId: keyId,
          DestinationEncryptionContext: encryptionContextMap(to),
        }),
      )) as { CiphertextBlob?: Uint8Array; KeyId?: string };
      if (!(out?.CiphertextBlob instanceof Uint8Array) || typeof out.KeyId !== "string")
        throw invalidResponse();
      return { wrapped: new Uint8Array(out.CiphertextBlob), keyId: out.KeyId };
    });
  }

  /** Forgets cached per-session clients of `userId` (e.g. on logout). */
  forgetUser(userId: string): void {
    for (const k of this.#sessions.keys())
      if (k.startsWith(`${userId}\u0000`)) {
        this.#sessions.get(k)?.client.destroy?.();
        this.#sessions.delete(k);
      }
  }
}
