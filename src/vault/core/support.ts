/**
 * Input validation and the audit sink contract of the vault.
 *
 * @packageDocumentation
 */
import type { JsonValue } from "../../canonical.js";
import { KeywardenError } from "../../errors.js";
import type { Identity } from "../../guard/identity.js";

/**
 * Where the vault records what it did. Structurally compatible with `keywarden/audit`'s
 * `auditSink(log)` (wired by the host): `chain` is `user:<userId>`, `action` one of the `vault.*` names in
 * docs/vault-format.md §9, `payload` ids and numbers only — never key material or secrets —
 * and `actor` the identity that acted (the user's session, the grant, the operator; the vault's
 * own host identity for an observed grant expiry).
 * If `append` rejects, the vault operation reports the failure (for opens under a grant, before
 * any secret is handed out).
 */
export interface VaultAuditSink {
  append(
    chain: string,
    action: string,
    payload: { readonly [key: string]: JsonValue },
    actor: Identity,
  ): Promise<unknown>;
}

const CREDENTIAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const EXCHANGE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ACTION = /^[a-z][a-z0-9_.-]{0,63}$/;

function bad(message: string): never {
  throw new KeywardenError("ERR_INVALID_ARGUMENT", message);
}

export function assertCredentialId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !CREDENTIAL_ID.test(id)) {
    bad("credentialId must be 1-128 characters of [A-Za-z0-9._:-]");
  }
}

export function assertExchange(id: unknown): asserts id is string {
  if (typeof id !== "string" || !EXCHANGE.test(id)) bad("exchange must be a lowercase exchange id");
}

export function assertAction(a: unknown): asserts a is string {
  if (typeof a !== "string" || !ACTION.test(a)) bad("action must be a lowercase action name");
}

export function assertLabel(label: unknown): asserts label is string {
  if (typeof label !== "string" || label.length > 200 || !label.isWellFormed()) {
    bad("label must be a string of at most 200 characters");
  }
}

/** Copies an event payload, dropping undefined values. */
export function vaultEvent(
  payload: Record<string, string | number | null>,
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(payload)) if (v !== undefined) out[k] = v;
  return out;
}
