/**
 * Opening a credential set for one callback (`Vault.withCredentials`): what must hold before the
 * KMS is asked (a live session or grant, no emergency lock, the caller's own rows, a grant's
 * stored scope), which wrapped data key and KMS context the caller's kind unwraps, the sealed
 * manifest's checks (rollback, revision, state, a grant's sealed scope), and the wiping of the
 * data key, every plaintext buffer and the secrets when the callback settles.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { type Identity, isIdentity, isIdentityLive } from "../../guard/identity.js";
import { BLOB_KIND, decryptFailed, openBlob } from "../format/index.js";
import type { KmsContext } from "../kms/index.js";
import { grantKeyContext, kmsAuthorization, requireKind, userKeyContext } from "./authorization.js";
import { credentialNotFound, type VaultContext } from "./context.js";
import { type CredentialSecrets, decodeFields, wipeFields } from "./credential-fields.js";
import { assertUnlocked } from "./locks.js";
import { assertCredentialId } from "./support.js";

/** Options of {@link Vault.withCredentials}. */
export interface OpenOptions {
  /** What the credentials are opened for (`"trade"`, `"cancel"`, `"read"`…); required for grants. */
  readonly action?: string;
}

/** {@link Vault.withCredentials}: opens a credential set for the extent of `fn` only. */
export async function openCredentials<T>(
  ctx: VaultContext,
  identity: Identity,
  credentialId: string,
  fn: (creds: CredentialSecrets) => T | Promise<T>,
  options: OpenOptions,
): Promise<Awaited<T>> {
  const now = ctx.now();
  if (isIdentity(identity) && identity.kind === "grant" && !isIdentityLive(identity, now)) {
    await ctx.grants.expiredOpen(identity);
  }
  const who = requireKind(identity, ["session", "grant"], now);
  if (typeof fn !== "function")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "fn must be a function");
  assertCredentialId(credentialId);
  const userId = who.userId;
  const scoped = ctx.ring.scoped(userId);
  const [row, userKey, lock] = await Promise.all([
    scoped.getCredential(credentialId),
    scoped.getUserKey(),
    scoped.getLock(),
  ]);
  assertUnlocked(lock);
  /* Precondition: a row of another owner is never opened, even if a store returns one. */
  if (
    !row ||
    !userKey ||
    row.userId !== userId ||
    userKey.userId !== userId ||
    row.credentialId !== credentialId
  ) {
    throw credentialNotFound();
  }
  const auth = kmsAuthorization(who);
  let wrapped: Uint8Array;
  let context: KmsContext;
  if (who.kind === "grant") {
    wrapped = await ctx.grants.precheck(scoped, who, row.exchange, options.action);
    context = grantKeyContext(userId, who.id);
  } else {
    wrapped = userKey.wrappedDataKey;
    context = userKeyContext(userId);
  }
  const { key: dk, cached } = await ctx.ring.unwrap(who, wrapped, context, auth);
  let secrets: CredentialSecrets | undefined;
  try {
    const manifest = dk.use((k) =>
      ctx.ring.manifests.open(k, userId, userKey.seq, userKey.manifest),
    );
    await ctx.ring.checkSeq(userId, userKey.seq);
    const entry = manifest.credentials[credentialId];
    if (!entry) throw credentialNotFound();
    /* Precondition: the row's revision and exchange must equal the sealed manifest's. */
    if (entry.revision !== row.revision || entry.exchange !== row.exchange) throw decryptFailed();
    if (entry.state !== "active") {
      throw new KeywardenError("ERR_VAULT_CREDENTIAL_DISABLED", "credential is disabled");
    }
    if (who.kind === "grant") {
      await ctx.grants.authorize(manifest, who, entry.exchange, options.action);
    }
    const plain = dk.use((k) =>
      openBlob(
        k,
        BLOB_KIND.credential,
        { userId, exchange: row.exchange, credentialId, revision: row.revision },
        row.sealed,
      ),
    );
    try {
      secrets = decodeFields(plain);
    } finally {
      plain.fill(0);
    }
  } finally {
    if (!cached) dk.wipe();
  }
  try {
    return await fn(secrets as CredentialSecrets);
  } finally {
    if (secrets) wipeFields(secrets);
  }
}
