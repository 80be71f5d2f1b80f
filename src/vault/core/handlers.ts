/**
 * The vault's operations as guard-registered handlers: the caller is the identity in the context
 * (`runAs`), never an argument, so a request handler cannot act "as" someone by passing a value.
 * Each is `owned()` (the guard loads the row through the caller's owner-scoped store and checks its
 * owner before the body runs) or a `publicHandler()` that acts only on the caller's own user. The
 * isolation kit (`keywarden/guard/testing`) runs over exactly this surface
 * (test/integration/isolation.vault.test.ts).
 *
 * @packageDocumentation
 */
import { requireIdentity } from "../../guard/context.js";
import type { Identity } from "../../guard/identity.js";
import { owned } from "../../guard/owned.js";
import { publicHandler } from "../../guard/public-handler.js";
import type { CredentialInput, CredentialSecrets } from "./credential-fields.js";
import type { GrantOptions, GrantSummary } from "./grants.js";
import type { LockStatus } from "./locks.js";
import type { CredentialMetadata, OpenOptions, StoreCredentialInput, Vault } from "./vault.js";

type OwnedCredential = CredentialMetadata & { readonly userId: string };
type Account = { readonly userId: string };

/** The guarded facades of one vault; names in the guard registry are `vault.<key>`. */
export interface VaultHandlers {
  /** Owned (`credential`): opens the caller's credential for `fn` only ({@link Vault.withCredentials}). */
  readonly openCredential: <T>(
    credentialId: string,
    fn: (creds: CredentialSecrets) => T | Promise<T>,
    options?: OpenOptions,
  ) => Promise<Awaited<T>>;
  /** Owned (`credential`): replaces the caller's credential secrets ({@link Vault.rotate}). */
  readonly rotate: (
    credentialId: string,
    credentials: CredentialInput,
  ) => Promise<CredentialMetadata>;
  /** Owned (`credential`): disables the caller's credential ({@link Vault.disable}). */
  readonly disable: (credentialId: string) => Promise<CredentialMetadata>;
  /** Owned (`grant`): revokes one of the caller's grants ({@link Vault.revokeGrant}). */
  readonly revokeGrant: (grantId: string) => Promise<void>;
  /** Owned (`account`, operators allowed): crypto-shreds a user ({@link Vault.deleteUser}). */
  readonly deleteUser: (userId: string) => Promise<void>;
  /** Public: the caller's own credential metadata ({@link Vault.list}). */
  readonly list: () => Promise<CredentialMetadata[]>;
  /** Public: the caller's own grants ({@link Vault.listGrants}). */
  readonly listGrants: () => Promise<GrantSummary[]>;
  /** Public: stores a credential for the caller's own session ({@link Vault.store}). */
  readonly store: (input: StoreCredentialInput) => Promise<CredentialMetadata>;
  /** Public: creates a grant from the caller's own session ({@link Vault.createGrant}). */
  readonly createGrant: (
    options: GrantOptions,
  ) => Promise<{ grant: Identity; summary: GrantSummary }>;
  /** Public: the caller's own lock state ({@link Vault.lockStatus}). */
  readonly lockStatus: () => Promise<LockStatus>;
  /** Public: lifts the caller's own emergency lock ({@link Vault.unlock}). */
  readonly unlock: () => Promise<boolean>;
}

const OWN_ONLY =
  "acts only on the caller's own user: the identity comes from the guard context and the vault scopes every read and write to it";

/**
 * Wraps a vault's per-user operations as guard-registered handlers that take the caller from the
 * identity context. Create once per vault; the registry names are stable (`vault.openCredential`,
 * `vault.rotate`, `vault.disable`, `vault.revokeGrant`, `vault.deleteUser`, `vault.list`,
 * `vault.listGrants`, `vault.store`, `vault.createGrant`, `vault.lockStatus`, `vault.unlock`).
 * Operator-only emergency operations stay on the {@link Vault} (they act on every user by design).
 *
 * @example
 * ```ts
 * const vh = vaultHandlers(vault);
 * app.post("/credentials/:id/balance", (req) =>
 *   runAs(req.identity, () => vh.openCredential(req.params.id, (c) => fetchBalance(c))));
 * ```
 * @throws never at creation; each handler throws `ERR_GUARD_UNAUTHENTICATED` without a live
 * identity, `ERR_GUARD_NOT_FOUND` for a missing or foreign id (the same error), and otherwise what
 * the vault method throws.
 */
export function vaultHandlers(vault: Vault): VaultHandlers {
  const credential = (name: string) => ({
    name,
    resource: "credential",
    id: (credentialId: string, ..._rest: unknown[]) => credentialId,
    load: (id: string, who: Identity) => vault.describeCredential(who, id),
    owner: (row: OwnedCredential) => row.userId,
  });
  type Fn = (creds: CredentialSecrets) => unknown;
  const openCredential = owned<[string, Fn, OpenOptions?], OwnedCredential, Promise<unknown>>(
    credential("vault.openCredential"),
    (
      { identity, row },
      _id: string,
      fn: (creds: CredentialSecrets) => unknown,
      options?: OpenOptions,
    ) => vault.withCredentials(identity, row.credentialId, fn, options ?? {}),
  ) as VaultHandlers["openCredential"];
  const rotate = owned<[string, CredentialInput], OwnedCredential, Promise<CredentialMetadata>>(
    credential("vault.rotate"),
    ({ identity, row }, _id: string, credentials: CredentialInput) =>
      vault.rotate(identity, row.credentialId, credentials),
  );
  const disable = owned<[string], OwnedCredential, Promise<CredentialMetadata>>(
    credential("vault.disable"),
    ({ identity, row }, _id: string) => vault.disable(identity, row.credentialId),
  );
  const revokeGrant = owned(
    {
      name: "vault.revokeGrant",
      resource: "grant",
      id: (grantId: string) => grantId,
      load: async (id: string, who: Identity) =>
        (await vault.listGrants(who)).find((g) => g.grantId === id),
      owner: (row: GrantSummary) => row.userId,
    },
    ({ identity, row }, _id: string) => vault.revokeGrant(identity, { grantId: row.grantId }),
  );
  const deleteUser = owned(
    {
      name: "vault.deleteUser",
      resource: "account",
      allowOperators: true,
      id: (userId: string) => userId,
      load: (userId: string, who: Identity): Account | undefined =>
        who.kind === "operator" || who.userId === userId ? { userId } : undefined,
      owner: (row: Account) => row.userId,
    },
    ({ identity, row }, _userId: string) => vault.deleteUser(identity, row.userId),
  );
  const own = <A extends unknown[], R>(name: string, fn: (who: Identity, ...a: A) => Promise<R>) =>
    publicHandler(
      { name, reason: OWN_ONLY },
      async (...a: A): Promise<R> => fn(requireIdentity(), ...a),
    );
  return Object.freeze({
    openCredential,
    rotate,
    disable,
    revokeGrant,
    deleteUser,
    list: own("vault.list", (who) => vault.list(who)),
    listGrants: own("vault.listGrants", (who) => vault.listGrants(who)),
    store: own("vault.store", (who, input: StoreCredentialInput) => vault.store(who, input)),
    createGrant: own("vault.createGrant", (who, options: GrantOptions) =>
      vault.createGrant(who, options),
    ),
    lockStatus: own("vault.lockStatus", (who) => vault.lockStatus(who)),
    unlock: own("vault.unlock", (who) => vault.unlock(who)),
  });
}
