/**
 * aws-local: a local AWS STS + KMS protocol server for keywarden's tests, driven by the real
 * `@aws-sdk/client-kms` and `@aws-sdk/credential-providers`. Test infrastructure, not shipped.
 *
 * What it does like AWS:
 * - SigV4 (header form) on every KMS request and every signed STS request: canonical request
 *   recomputed from the wire, scope service/region checked, all `x-amz-*` headers signed, 5-minute
 *   skew window, session token checked in constant time. `AssumeRoleWithWebIdentity` may be
 *   unsigned (as in AWS); a signature that is present must verify.
 * - STS web identity: JWT verified with jose against the provider JWKS (issuer, audience, expiry,
 *   asymmetric algorithms only), role trust policy evaluated (`<provider>:aud`, `<provider>:sub`,
 *   `aws:RequestTag/*`, `aws:TagKeys`; `sts:TagSession` needed when the token carries tags), session
 *   tags from `https://aws.amazon.com/tags` bound to the issued access key.
 * - KMS key policies evaluated like IAM (explicit Deny wins; an Allow naming the account root
 *   delegates to the caller's identity policies, see {@link AwsLocalOptions.identityPolicies}); the
 *   encryption context is AES-256-GCM associated data, so a context mismatch is
 *   `InvalidCiphertextException`; `__type` errors with the Smithy-model HTTP statuses.
 *
 * What it does not model (requests using these are refused, never silently accepted): grants
 * (`GrantTokens`, `CreateGrant`), `Recipient` (Nitro attestation), STS session policies, presigned
 * (query-string) SigV4 and SigV4A, `AssumeRole`. All principals live in the one configured account.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONWebKeySet } from "jose";
import { RequestCounters } from "./counters.js";
import { type FaultHandle, FaultInjector, type FaultSpec } from "./faults.js";
import { CredentialRegistry, randomAwsId, type SessionInfo } from "./identity.js";
import { symmetricOperations } from "./kms.js";
import { adminOperations } from "./kms-admin.js";
import { asymmetricOperations } from "./kms-asymmetric.js";
import { type KeyOptions, type KeyState, LocalKey, setPolicy } from "./kms-keys.js";
import { type ParsedPolicy, type PolicyDocument, parsePolicy } from "./policy.js";
import { handleRequest, type ServerContext } from "./server.js";
import { type OidcProviderOptions, type RoleOptions, StsService } from "./sts.js";

export type { RequestFilter, RequestRecord } from "./counters.js";
export { RequestCounters } from "./counters.js";
export type { FaultHandle, FaultKind, FaultSpec } from "./faults.js";
export type { SessionInfo } from "./identity.js";
export { createTestIdentityProvider, type MintOptions, type TestIdentityProvider } from "./jwks.js";
export type { KeyOptions, KeySpec, KeyState } from "./kms-keys.js";
export type { PolicyDocument } from "./policy.js";
export type { OidcProviderOptions, RoleOptions } from "./sts.js";

/** Static long-term credentials of an IAM user (e.g. the operator/admin). */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Default `arn:aws:iam::<account>:user/operator`. */
  readonly userArn?: string;
}

/** Options for {@link startAwsLocal}. Everything is optional. */
export interface AwsLocalOptions {
  /** 12-digit account id. Default `"111122223333"`. */
  readonly accountId?: string;
  /** Regions served (chosen by the SigV4 scope of each request). Default `["us-east-1"]`. */
  readonly regions?: readonly string[];
  /** Shorthand for `regions: [region]`. */
  readonly region?: string;
  /** KMS keys (validated like CreateKey/PutKeyPolicy; a bad policy throws). */
  readonly keys?: readonly KeyOptions[];
  /** Roles that web identities can assume. */
  readonly roles?: readonly RoleOptions[];
  /** OIDC identity providers; `issuer`/`audience`/`jwks` below add one more. */
  readonly identityProviders?: readonly OidcProviderOptions[];
  readonly issuer?: string;
  readonly audience?: string | readonly string[];
  readonly jwks?: JSONWebKeySet;
  /** The operator/admin user. Default: random `AKIA…` credentials for `user/operator`. */
  readonly adminCredentials?: StaticCredentials;
  /** More static IAM users. */
  readonly users?: readonly StaticCredentials[];
  /**
   * IAM identity policies by user ARN or role ARN. They matter when a key policy allows the
   * account root (delegation to IAM) and whenever they contain an explicit Deny. Default: the admin
   * user has AdministratorAccess (`Allow * on *`); roles and other users have none.
   */
  readonly identityPolicies?: Readonly<Record<string, PolicyDocument | readonly PolicyDocument[]>>;
}

/** A running server. Always `close()` it (e.g. in `afterAll`). */
export interface AwsLocal {
  /** Base URL, e.g. `http://127.0.0.1:40123` (KMS and STS share it). */
  readonly endpoint: string;
  /** KMS endpoint for `new KMSClient({ endpoint })`. */
  readonly kmsEndpoint: string;
  /** STS endpoint for `fromWebToken({ clientConfig: { endpoint } })`. */
  readonly stsEndpoint: string;
  readonly accountId: string;
  readonly regions: readonly string[];
  /** The admin's credentials (as passed, or generated), with its ARN. */
  readonly adminCredentials: Required<StaticCredentials>;
  /** Request counters per service / operation / principal. */
  readonly counters: RequestCounters;
  /** Injects a fault for matching requests (default: the next one). */
  inject(fault: FaultSpec): FaultHandle;
  /** Removes every injected fault. */
  clearFaults(): void;
  /** Sets a key's state in one region (default: all its regions). */
  setKeyState(keyId: string, state: KeyState, region?: string): void;
  /** Replaces a key's policy in one region (default: all its regions). @throws on a malformed policy */
  setKeyPolicy(keyId: string, policy: PolicyDocument, region?: string): void;
  /** Adds new key material to a symmetric key; earlier ciphertexts keep decrypting. */
  rotateKeyMaterial(keyId: string): void;
  /** `arn:aws:kms:<region>:<account>:key/<id>` (region defaults to the first). */
  keyArn(keyId: string, region?: string): string;
  /** STS sessions issued so far (no secrets). */
  sessions(): SessionInfo[];
  /** Expires matching STS sessions now (all when no filter); returns how many. */
  expireSessions(filter?: {
    readonly roleArn?: string;
    readonly tags?: Readonly<Record<string, string>>;
  }): number;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

function providersFrom(options: AwsLocalOptions): OidcProviderOptions[] {
  const providers = [...(options.identityProviders ?? [])];
  if (
    options.issuer !== undefined ||
    options.jwks !== undefined ||
    options.audience !== undefined
  ) {
    if (
      options.issuer === undefined ||
      options.jwks === undefined ||
      options.audience === undefined
    ) {
      throw new Error("issuer, audience and jwks must be given together");
    }
    const audiences =
      typeof options.audience === "string" ? [options.audience] : [...options.audience];
    providers.push({ issuer: options.issuer, audiences, jwks: options.jwks });
  }
  return providers;
}

/**
 * Starts the local STS + KMS server on `127.0.0.1` (random port).
 *
 * @example
 * ```ts
 * const idp = await createTestIdentityProvider();
 * const aws = await startAwsLocal({
 *   issuer: idp.issuer, audience: idp.audience, jwks: idp.jwks,
 *   roles: [{ arn: "arn:aws:iam::111122223333:role/vault-user-session", trustPolicy }],
 *   keys: [{ keyId: "1234abcd-12ab-34cd-56ef-1234567890ab", policy: keyPolicy }],
 * });
 * const kms = new KMSClient({
 *   region: "us-east-1",
 *   endpoint: aws.kmsEndpoint,
 *   credentials: fromWebToken({
 *     roleArn, webIdentityToken: await idp.mintToken({ sub: "u-1", userId: "u-1" }),
 *     clientConfig: { region: "us-east-1", endpoint: aws.stsEndpoint },
 *   }),
 * });
 * // ... tests ...
 * await aws.close();
 * ```
 * @throws Error when an option is invalid (bad key id, malformed policy, role ARN outside the account).
 */
export async function startAwsLocal(options: AwsLocalOptions = {}): Promise<AwsLocal> {
  const accountId = options.accountId ?? "111122223333";
  if (!/^\d{12}$/.test(accountId)) throw new Error("accountId must be 12 digits");
  const regions = [
    ...new Set([
      ...(options.region !== undefined ? [options.region] : []),
      ...(options.regions ?? []),
    ]),
  ];
  if (regions.length === 0) regions.push("us-east-1");
  const now = () => Date.now();

  const registry = new CredentialRegistry();
  const admin: Required<StaticCredentials> = {
    accessKeyId: options.adminCredentials?.accessKeyId ?? randomAwsId("AKIA"),
    secretAccessKey:
      options.adminCredentials?.secretAccessKey ?? randomBytes(30).toString("base64"),
    userArn: options.adminCredentials?.userArn ?? `arn:aws:iam::${accountId}:user/operator`,
  };
  for (const user of [admin, ...(options.users ?? [])]) {
    registry.addUser(
      user.accessKeyId,
      user.secretAccessKey,
      user.userArn ?? `arn:aws:iam::${accountId}:user/${user.accessKeyId}`,
      accountId,
    );
  }

  const identityPolicies = new Map<string, ParsedPolicy[]>([
    [
      admin.userArn,
      [
        parsePolicy(
          { Version: "2012-10-17", Statement: { Effect: "Allow", Action: "*", Resource: "*" } },
          "identity",
        ),
      ],
    ],
  ]);
  for (const [arn, docs] of Object.entries(options.identityPolicies ?? {})) {
    const list = (Array.isArray(docs) ? docs : [docs]) as PolicyDocument[];
    identityPolicies.set(
      arn,
      list.map((d) => parsePolicy(d, "identity")),
    );
  }

  const keys = new Map<string, LocalKey>();
  const aliases = new Map<string, string>();
  for (const keyOptions of options.keys ?? []) {
    const key = new LocalKey(keyOptions, regions);
    for (const region of key.replicas.keys()) {
      if (!regions.includes(region))
        throw new Error(`key ${key.id}: region ${region} is not served`);
    }
    if (keys.has(key.id)) throw new Error(`duplicate key id ${key.id}`);
    keys.set(key.id, key);
    for (const alias of key.aliases) {
      if (aliases.has(alias)) throw new Error(`duplicate alias ${alias}`);
      aliases.set(alias, key.id);
    }
  }
  const keyById = (keyId: string): LocalKey => {
    const key = keys.get(keyId);
    if (key === undefined) throw new Error(`unknown key ${keyId}`);
    return key;
  };

  const counters = new RequestCounters();
  const faults = new FaultInjector();
  const ctx: ServerContext = {
    regions: new Set(regions),
    stsRegions: new Set([...regions, "us-east-1"]),
    registry,
    kms: { accountId, keys, aliases, identityPolicies, now },
    kmsOperations: { ...symmetricOperations, ...asymmetricOperations, ...adminOperations },
    sts: new StsService(accountId, providersFrom(options), options.roles ?? [], registry, now),
    counters,
    faults,
    now,
  };

  const server = createServer((req, res) => {
    void handleRequest(ctx, req, res);
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    kmsEndpoint: endpoint,
    stsEndpoint: endpoint,
    accountId,
    regions,
    adminCredentials: admin,
    counters,
    inject: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    setKeyState(keyId, state, region) {
      const key = keyById(keyId);
      if (region !== undefined && !key.replicas.has(region))
        throw new Error(`key ${keyId} has no replica in ${region}`);
      for (const [r, replica] of key.replicas) {
        if (region === undefined || r === region) replica.state = state;
      }
    },
    setKeyPolicy(keyId, policy, region) {
      const key = keyById(keyId);
      if (region !== undefined && !key.replicas.has(region))
        throw new Error(`key ${keyId} has no replica in ${region}`);
      setPolicy(key, policy, region === undefined ? undefined : [region]);
    },
    rotateKeyMaterial: (keyId) => keyById(keyId).rotate(),
    keyArn: (keyId, region) => keyById(keyId).arn(region ?? (regions[0] as string), accountId),
    sessions: () => registry.sessions(),
    expireSessions(filter = {}) {
      return registry.expireSessions(now(), (s) => {
        if (filter.roleArn !== undefined && s.roleArn !== filter.roleArn) return false;
        const tags = filter.tags ?? {};
        return Object.entries(tags).every(([k, v]) => s.tags[k] === v);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        faults.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
