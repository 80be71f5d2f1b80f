/**
 * The action catalog: every action an entry may record, with the zod schema of its payload and
 * the kind of chain it belongs to. Hosts extend it with their own validated actions.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import { KeywardenError } from "../../errors.js";
import { assertNoSecrets } from "./secret-scan.js";

/** Which chains an action may be appended to. */
export type ActionChainKind = "user" | "operator";

/** One catalog entry. */
export interface AuditActionDefinition {
  /** Chain kind the action is recorded on. */
  readonly chain: ActionChainKind;
  /** Validates the payload; strict object schemas are recommended. */
  readonly schema: z.ZodType;
}

const id = z.string().min(1).max(256);
const name = z.string().min(1).max(128);
/** Amounts and prices are decimal strings (JCS would reformat numbers, and lose precision). */
const decimal = z.string().regex(/^-?(?:0|[1-9]\d*)(?:\.\d+)?$/, "decimal string");
const reason = z.string().max(1024);
const json: z.ZodType = z.json();

/** What the vault records when a credential set is stored, rotated or disabled (no key material). */
const vaultCredentialEvent = z.strictObject({
  credentialId: id,
  exchange: name,
  revision: z.number().int().positive(),
  sessionId: id,
});

/** The actions recorded on a user's chain. */
export const USER_ACTIONS = {
  "key.onboarded": z.strictObject({
    credentialId: id,
    exchange: name,
    label: z.string().max(256).optional(),
    permissions: z.array(name).max(64).optional(),
  }),
  "key.rejected": z.strictObject({
    exchange: name,
    reason,
    findings: z.array(name).max(64).optional(),
  }),
  "key.rotated": z.strictObject({
    credentialId: id,
    previousCredentialId: id,
    exchange: name.optional(),
  }),
  "key.deleted": z.strictObject({ credentialId: id, reason: reason.optional() }),
  "order.placed": z.strictObject({
    exchange: name,
    symbol: name,
    side: z.enum(["buy", "sell"]),
    type: name,
    amount: decimal,
    price: decimal.optional(),
    clientOrderId: id.optional(),
    orderId: id.optional(),
  }),
  "order.canceled": z.strictObject({
    exchange: name,
    orderId: id,
    symbol: name.optional(),
    clientOrderId: id.optional(),
  }),
  "order.failed": z.strictObject({
    exchange: name,
    symbol: name,
    code: name,
    side: z.enum(["buy", "sell"]).optional(),
    clientOrderId: id.optional(),
    message: reason.optional(),
  }),
  "order.intent": z.strictObject({
    exchange: name,
    symbol: name,
    side: z.enum(["buy", "sell"]),
    type: name,
    amount: decimal,
    price: decimal.optional(),
    clientOrderId: id,
  }),
  "trading.refused": z.strictObject({ exchange: name, method: name }),
  "vault.credential.stored": vaultCredentialEvent,
  "vault.credential.rotated": vaultCredentialEvent,
  "vault.credential.disabled": vaultCredentialEvent,
  "vault.grant.created": z.strictObject({
    grantId: id,
    exchanges: z.string().max(2048),
    actions: z.string().max(1024),
    expiresAt: z.number().int().nonnegative(),
    sessionId: id,
  }),
  "vault.grant.used": z.strictObject({ grantId: id, exchange: name, action: name }),
  "vault.grant.expired": z.strictObject({ grantId: id, expiresAt: z.number().int().nonnegative() }),
  "vault.grant.revoked": z.strictObject({ grantId: id, actorKind: name, actorId: id }),
  "vault.user.rewrapped": z.strictObject({ keyId: id, sessionId: id }),
  "vault.user.shredded": z.strictObject({ actorKind: name, actorId: id }),
  "vault.user.locked": z.strictObject({
    lockId: id,
    reason,
    blockedCredentials: z.number().int().min(0),
    actorKind: name,
    actorId: id,
  }),
  "vault.user.unlocked": z.strictObject({
    lockId: id,
    lockedAt: z.number().int().nonnegative(),
    sessionId: id,
  }),
  "killswitch.fired": z.strictObject({
    scope: name,
    reason,
    cancels: z
      .array(
        z.strictObject({
          exchange: name,
          credentialId: z.union([id, z.literal("*")]),
          outcome: z.enum(["canceled", "failed", "not-authorized"]),
          attempts: z.number().int().min(0).max(100),
        }),
      )
      .max(256)
      .optional(),
  }),
  "killswitch.released": z.strictObject({ scope: name, reason: reason.optional() }),
  "parameter.changed": z.strictObject({ name, from: json.optional(), to: json }),
} as const;

/** The infrastructure actions recorded on the operator chain. */
export const OPERATOR_ACTIONS = {
  "keystore.initialized": z.strictObject({ kms: name, keyId: id.optional() }),
  "key.rewrapped": z.strictObject({
    credentialId: id,
    userId: name,
    fromKeyId: id.optional(),
    toKeyId: id.optional(),
  }),
  "migration.applied": z.strictObject({ name, version: name }),
  "signing-key.generated": z.strictObject({
    keyId: id,
    algorithm: name,
    publicKey: z.string().max(1024).optional(),
  }),
  "key.disabled": z.strictObject({ credentialId: id, userId: name, reason }),
  "key.reenabled": z.strictObject({ credentialId: id, userId: name, reason: reason.optional() }),
  "vault.lock.placed": z.strictObject({
    userId: name,
    lockId: id,
    reason,
    blockedCredentials: z.number().int().min(0),
  }),
  "emergency.revoked": z.strictObject({
    reason,
    users: z.number().int().min(0),
    credentialsDisabled: z.number().int().min(0),
    grantsRevoked: z.number().int().min(0),
    failures: z.number().int().min(0),
  }),
} as const;

/** Names of the built-in user-chain actions. */
export type UserAction = keyof typeof USER_ACTIONS;
/** Names of the built-in operator-chain actions. */
export type OperatorAction = keyof typeof OPERATOR_ACTIONS;

const ACTION_NAME = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;

/**
 * The set of actions a log accepts: the built-ins plus the host's own.
 *
 * @example
 * ```ts
 * const catalog = new ActionCatalog({
 *   "bot.paused": { chain: "user", schema: z.strictObject({ botId: z.string() }) },
 * });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when a host action has an invalid name or
 * redefines a built-in one.
 */
export class ActionCatalog {
  readonly #actions = new Map<string, AuditActionDefinition>();

  constructor(hostActions: Readonly<Record<string, AuditActionDefinition>> = {}) {
    for (const [n, schema] of Object.entries(USER_ACTIONS))
      this.#actions.set(n, { chain: "user", schema });
    for (const [n, schema] of Object.entries(OPERATOR_ACTIONS))
      this.#actions.set(n, { chain: "operator", schema });
    for (const [n, def] of Object.entries(hostActions)) {
      if (!ACTION_NAME.test(n) || n.length > 64)
        throw new KeywardenError("ERR_INVALID_ARGUMENT", `invalid audit action name '${n}'`);
      if (this.#actions.has(n))
        throw new KeywardenError("ERR_INVALID_ARGUMENT", `audit action '${n}' is already defined`);
      if (
        (def?.chain !== "user" && def?.chain !== "operator") ||
        typeof def.schema?.safeParse !== "function"
      )
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          `audit action '${n}' needs a chain and a zod schema`,
        );
      this.#actions.set(n, { chain: def.chain, schema: def.schema });
    }
  }

  /** True when `action` is defined. */
  has(action: string): boolean {
    return this.#actions.has(action);
  }

  /**
   * Checks that `action` exists for `chain` and that `payload` is valid and holds no secret.
   *
   * @throws {KeywardenError} `ERR_AUDIT_UNKNOWN_ACTION`, `ERR_AUDIT_SECRET_IN_PAYLOAD` or
   * `ERR_AUDIT_INVALID_ENTRY` (naming the failing field paths, not values).
   */
  validate(chain: ActionChainKind, action: string, payload: unknown): void {
    const def = this.#actions.get(action);
    if (!def || def.chain !== chain)
      throw new KeywardenError("ERR_AUDIT_UNKNOWN_ACTION", `unknown ${chain} audit action`, {
        details: { action: typeof action === "string" ? action.slice(0, 64) : null },
      });
    assertNoSecrets(payload);
    const result = def.schema.safeParse(payload);
    if (!result.success) {
      const paths = result.error.issues.map((i) => i.path.join(".") || "$").join(", ");
      throw new KeywardenError(
        "ERR_AUDIT_INVALID_ENTRY",
        `invalid payload for ${action} at ${paths}`,
        {
          details: { action },
        },
      );
    }
  }
}
