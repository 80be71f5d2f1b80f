/**
 * A credential set's life in the vault: sealing and storing a new set (revision 1), rotating its
 * secrets or disabling it (revision + 1, recorded in the sealed manifest), and reading its
 * non-secret metadata (list, describe). Opening a set is credential-open.ts; erasing a whole user
 * is user-operations.ts.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { KeywardenError } from "../../errors.js";
import type { Identity } from "../../guard/identity.js";
import { BLOB_KIND, sealBlob } from "../format/index.js";
import type { CredentialRow } from "../stores/index.js";
import { requireKind } from "./authorization.js";
import { credentialNotFound, type VaultContext } from "./context.js";
import { type CredentialInput, encodeFields } from "./credential-fields.js";
import { assertCredentialId, assertExchange, assertLabel } from "./support.js";

/** Non-secret metadata of a stored credential set. */
export interface CredentialMetadata {
  readonly credentialId: string;
  readonly exchange: string;
  readonly label: string | null;
  readonly revision: number;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Input of {@link Vault.store}. */
export interface StoreCredentialInput {
  /** Exchange id, e.g. `"binance"` (lowercase ccxt id). */
  readonly exchange: string;
  /** Field values: `apiKey`, `secret`, `passphrase`/`password`, `uid`, extras. */
  readonly credentials: CredentialInput;
  /** Chosen id; default a random `cred_…` id. */
  readonly credentialId?: string;
  /** Non-secret label. */
  readonly label?: string;
}

const toMeta = (r: CredentialRow): CredentialMetadata => ({
  credentialId: r.credentialId,
  exchange: r.exchange,
  label: r.label,
  revision: r.revision,
  disabled: r.disabled,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

function sealRow(
  ctx: VaultContext,
  key: Uint8Array,
  userId: string,
  credentialId: string,
  exchange: string,
  revision: number,
  plain: Uint8Array,
  rest: { label: string | null; createdAt: number; disabled: boolean },
): CredentialRow {
  const sealed = sealBlob(
    key,
    BLOB_KIND.credential,
    { userId, exchange, credentialId, revision },
    plain,
  );
  return { userId, credentialId, exchange, revision, sealed, updatedAt: ctx.now(), ...rest };
}

/** {@link Vault.store}: seals and stores a new credential set for the session's user. */
export async function storeCredential(
  ctx: VaultContext,
  session: Identity,
  input: StoreCredentialInput,
): Promise<CredentialMetadata> {
  const who = requireKind(session, ["session"], ctx.now());
  assertExchange(input?.exchange);
  const credentialId = input.credentialId ?? `cred_${randomBytes(12).toString("base64url")}`;
  assertCredentialId(credentialId);
  const label = input.label ?? null;
  if (label !== null) assertLabel(label);
  const plain = encodeFields(input.credentials);
  let meta: CredentialMetadata | undefined;
  try {
    await ctx.ring.mutate(who, (m, key) => {
      if (m.credentials[credentialId]) {
        throw new KeywardenError("ERR_VAULT_REVISION_CONFLICT", "credential id already exists");
      }
      const now = ctx.now();
      const row = sealRow(ctx, key, who.userId, credentialId, input.exchange, 1, plain, {
        label,
        createdAt: now,
        disabled: false,
      });
      meta = toMeta(row);
      return {
        manifest: {
          ...m,
          credentials: {
            ...m.credentials,
            [credentialId]: { exchange: input.exchange, revision: 1, state: "active" },
          },
        },
        credentials: [row],
      };
    });
  } finally {
    plain.fill(0);
  }
  await ctx.emit(
    who.userId,
    "vault.credential.stored",
    {
      credentialId,
      exchange: input.exchange,
      revision: 1,
      sessionId: who.id,
    },
    who,
  );
  return meta as CredentialMetadata;
}

/**
 * {@link Vault.rotate} (with `credentials`) and {@link Vault.disable} (without): seals the next
 * revision, active with the new secrets or disabled with none, and records `action`.
 */
export async function changeCredential(
  ctx: VaultContext,
  session: Identity,
  credentialId: string,
  action: string,
  credentials: CredentialInput | undefined,
): Promise<CredentialMetadata> {
  const who = requireKind(session, ["session"], ctx.now());
  assertCredentialId(credentialId);
  const plain = credentials ? encodeFields(credentials) : undefined;
  const scoped = ctx.ring.scoped(who.userId);
  let meta: CredentialMetadata | undefined;
  try {
    await ctx.ring.mutate(who, async (m, key) => {
      const entry = m.credentials[credentialId];
      const row = await scoped.getCredential(credentialId);
      if (!entry || !row || row.userId !== who.userId || row.exchange !== entry.exchange)
        throw credentialNotFound();
      const revision = entry.revision + 1;
      let next: CredentialRow;
      if (plain) {
        next = sealRow(ctx, key, who.userId, credentialId, entry.exchange, revision, plain, {
          label: row.label,
          createdAt: row.createdAt,
          disabled: false,
        });
      } else {
        // Disabling destroys the sealed secret too: re-enabling needs a rotate with new secrets.
        next = sealRow(
          ctx,
          key,
          who.userId,
          credentialId,
          entry.exchange,
          revision,
          new Uint8Array(0),
          {
            label: row.label,
            createdAt: row.createdAt,
            disabled: true,
          },
        );
      }
      meta = toMeta(next);
      return {
        manifest: {
          ...m,
          credentials: {
            ...m.credentials,
            [credentialId]: {
              exchange: entry.exchange,
              revision,
              state: plain ? "active" : "disabled",
            },
          },
        },
        credentials: [next],
      };
    });
  } finally {
    plain?.fill(0);
  }
  const done = meta as CredentialMetadata;
  await ctx.emit(
    who.userId,
    action,
    {
      credentialId,
      exchange: done.exchange,
      revision: done.revision,
      sessionId: who.id,
    },
    who,
  );
  return done;
}

/** {@link Vault.list}: the caller's credential sets, metadata only. */
export async function listCredentials(
  ctx: VaultContext,
  identity: Identity,
): Promise<CredentialMetadata[]> {
  const who = requireKind(identity, ["session", "grant", "host"], ctx.now());
  const rows = await ctx.ring.scoped(who.userId).listCredentials();
  return rows.filter((r) => r.userId === who.userId).map(toMeta);
}

/** {@link Vault.describeCredential}: one of the caller's sets with its owner, or undefined. */
export async function describeCredential(
  ctx: VaultContext,
  identity: Identity,
  credentialId: string,
): Promise<(CredentialMetadata & { readonly userId: string }) | undefined> {
  const who = requireKind(identity, ["session", "grant", "host"], ctx.now());
  if (typeof credentialId !== "string") return undefined;
  const row = await ctx.ring.scoped(who.userId).getCredential(credentialId);
  /* Precondition: a row of another owner is never described, even if a store returns one. */
  if (!row || row.userId !== who.userId || row.credentialId !== credentialId) return undefined;
  return { userId: row.userId, ...toMeta(row) };
}
