/**
 * The signer's logic, apart from its HTTP binding: who is calling (a bot's capability, a user's
 * session, the operator), what they may do, and the call into the trading client.
 *
 * @packageDocumentation
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { z } from "zod";
import { isKeywardenError, KeywardenError } from "../errors.js";
import {
  hostIdentity,
  type Identity,
  operatorIdentity,
  runAs,
  type SessionVerifier,
} from "../guard/index.js";
import type { Secret } from "../secret.js";
import {
  type EmergencyVault,
  emergencyRevokeAll,
  isAllowedMethod,
  type TradingAudit,
  type TradingClient,
  type TradingStateStore,
  type TradingVault,
} from "../trading/index.js";
import {
  argsFromWire,
  type CallMethod,
  callArgs,
  callBody,
  cancelAllBody,
  cancelBody,
  emergencyBody,
  enrolBody,
  killBody,
  operatorKillBody,
  orderBody,
  PRIVATE_READS,
  revokeBody,
} from "../trading/remote/protocol.js";
import type { GrantOptions, GrantSummary } from "../vault/index.js";
import {
  type CapabilityRecord,
  type CapabilityStore,
  mintCapability,
  verifyBearer,
} from "./capabilities.js";
import { type RateLimit, RateLimiter } from "./limits.js";
import { OrderJournal } from "./orders.js";

/** The vault operations the signer uses (keywarden's `Vault` satisfies it). */
export interface SignerVault extends TradingVault {
  createGrant(
    session: Identity,
    options: GrantOptions,
  ): Promise<{ grant: Identity; summary: GrantSummary }>;
  resumeGrant(caller: Identity, userId: string, grantId: string): Promise<Identity>;
  revokeGrant(identity: Identity, target: { grantId: string; userId?: string }): Promise<void>;
}

/** The signer's wiring, without its transport. */
export interface SignerCore {
  readonly vault: SignerVault;
  readonly audit: TradingAudit;
  readonly trading: TradingClient;
  readonly state: TradingStateStore;
  readonly capabilities: CapabilityStore;
  /** Verifies users' session tokens for `POST /v1/enrolments`; without it enrolment is in-process only. */
  readonly sessions?: SessionVerifier | undefined;
  /** The operator credential: its id (recorded as the actor) and token (only its hash is kept). */
  readonly operator: { readonly id: string; readonly token: Secret };
  /** Operator-level vault operations for emergency revocation (keywarden/vault `emergencyVaultOps`). */
  readonly emergency?: EmergencyVault | undefined;
  /** Per-bot and per-user request rates (defaults: 100/s burst 200 per bot, 200/s burst 400 per user). */
  readonly limits?: { readonly perBot?: RateLimit; readonly perUser?: RateLimit } | undefined;
  readonly now?: (() => number) | undefined;
}

/** Who called, as the transport saw it. */
export interface CallerInfo {
  readonly authorization: string | undefined;
  readonly botId: string | undefined;
  /** Hex SHA-256 of the TLS client certificate, when the connection had one. */
  readonly certFingerprint: string | undefined;
}

/** What a successful enrolment hands the bot (the bearer is shown once). */
export interface Enrolment {
  readonly capability: string;
  readonly capabilityId: string;
  readonly grantId: string;
  readonly botId: string;
  readonly expiresAt: number;
}

const unauthenticated = () => new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
const outOfScope = () =>
  new KeywardenError("ERR_VAULT_GRANT_SCOPE", "grant does not cover this use");
const sha = (s: string) => createHash("sha256").update(s).digest();

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `invalid request: ${issue?.path.join(".") || "body"}: ${issue?.code ?? "invalid"}`,
    );
  }
  return r.data;
}

const bearerOf = (h: string | undefined) =>
  typeof h === "string" && h.startsWith("Bearer ") && h.length < 4096 ? h.slice(7) : "";

/** @internal The authorization and dispatch of every signer route. */
export class SignerService {
  readonly #c: SignerCore;
  readonly #operatorHash: Buffer;
  readonly #operator: Identity;
  readonly #orders: OrderJournal;
  readonly #botLimit: RateLimiter;
  readonly #userLimit: RateLimiter;
  readonly #now: () => number;
  readonly metrics = { requests: 0, refused: 0, orders: 0, errors: 0 };

  constructor(core: SignerCore) {
    this.#c = core;
    this.#now = core.now ?? Date.now;
    this.#operatorHash = core.operator.token.use((b) => createHash("sha256").update(b).digest());
    this.#operator = operatorIdentity(core.operator.id);
    this.#orders = new OrderJournal(core.trading, core.audit);
    this.#botLimit = new RateLimiter(
      core.limits?.perBot ?? { perSecond: 100, burst: 200 },
      this.#now,
    );
    this.#userLimit = new RateLimiter(
      core.limits?.perUser ?? { perSecond: 200, burst: 400 },
      this.#now,
    );
  }

  /** Orders being placed right now. */
  get inflightOrders(): number {
    return this.#orders.inflight;
  }

  /**
   * Enrols a bot for the session's user: creates the user's trading grant and a capability bound
   * to `botId` (and a TLS client certificate), expiring and revoked with the grant.
   */
  async enrol(session: Identity, body: unknown): Promise<Enrolment> {
    const b = parse(enrolBody, body);
    const { grant, summary } = await this.#c.vault.createGrant(session, {
      exchanges: b.exchanges,
      actions: b.actions,
      ttlMs: b.ttlMs,
    });
    const { bearer, record } = mintCapability({
      userId: grant.userId,
      grantId: summary.grantId,
      botId: b.botId,
      certFingerprint: b.certFingerprint ?? null,
      createdAt: this.#now(),
      expiresAt: summary.expiresAt,
    });
    await this.#c.capabilities.put(record);
    return {
      capability: bearer,
      capabilityId: record.capabilityId,
      grantId: summary.grantId,
      botId: b.botId,
      expiresAt: summary.expiresAt,
    };
  }

  /** `POST /v1/enrolments`: the caller presents the user's live session token. */
  async enrolWithSession(caller: CallerInfo, body: unknown): Promise<Enrolment> {
    if (!this.#c.sessions) throw unauthenticated();
    const token = bearerOf(caller.authorization);
    if (!token) throw unauthenticated();
    const session = await this.#c.sessions.verify(token);
    return this.enrol(session, body);
  }

  /** Authenticates a bot: capability, binding, expiry, revocation, the grant itself, rate limits. */
  async #bot(caller: CallerInfo): Promise<{ record: CapabilityRecord; grant: Identity }> {
    const record = await verifyBearer(this.#c.capabilities, bearerOf(caller.authorization));
    /* Precondition: a capability is honoured only for its bot, on its bound certificate, while live. */
    if (
      !record ||
      caller.botId !== record.botId ||
      (record.certFingerprint !== null && caller.certFingerprint !== record.certFingerprint) ||
      record.revokedAt !== null ||
      this.#now() >= record.expiresAt
    ) {
      this.metrics.refused++;
      throw unauthenticated();
    }
    this.#botLimit.take(record.capabilityId);
    this.#userLimit.take(record.userId);
    // The grant's own state decides too: revoked or expired in the vault ends the capability.
    const grant = await this.#c.vault.resumeGrant(
      hostIdentity(record.userId, { id: "keywarden-signer", ttlMs: 60_000 }),
      record.userId,
      record.grantId,
    );
    return { record, grant };
  }

  /** The credential's exchange, checked against the grant's exchanges and `action`. */
  async #scope(grant: Identity, credentialId: string, action: string | undefined) {
    const list = await runAs(grant, () => this.#c.vault.list(grant));
    const cred = list.find((c) => c.credentialId === credentialId);
    if (!cred) throw new KeywardenError("ERR_GUARD_NOT_FOUND", "resource not found");
    const scope = grant.scope;
    /* Precondition: a bot acts only on its grant's exchanges, and only for its grant's actions. */
    if (
      !scope?.exchanges.includes(cred.exchange) ||
      (action !== undefined && !scope.actions.includes(action))
    )
      throw outOfScope();
    return cred;
  }

  /** Runs one bot route. */
  async bot(route: string, caller: CallerInfo, body: unknown): Promise<unknown> {
    const { grant } = await this.#bot(caller);
    const t = this.#c.trading;
    switch (route) {
      case "orders": {
        const b = parse(orderBody, body);
        const cred = await this.#scope(grant, b.credentialId, "trade");
        this.metrics.orders++;
        return this.#orders.place(grant, cred, b.clientOrderId, {
          symbol: b.symbol,
          type: b.type as "limit",
          side: b.side as "buy",
          amount: b.amount,
          price: b.price ?? undefined,
          params: b.params ?? undefined,
        });
      }
      case "cancel": {
        const b = parse(cancelBody, body);
        await this.#scope(grant, b.credentialId, "cancel");
        return runAs(grant, () => t.cancelOrder(b.credentialId, b.orderId, b.symbol ?? undefined));
      }
      case "cancel-all": {
        const b = parse(cancelAllBody, body);
        await this.#scope(grant, b.credentialId, "cancel");
        return runAs(grant, () => t.cancelAllOrders(b.credentialId, b.symbol ?? undefined));
      }
      case "call": {
        const b = parse(callBody, body);
        const schema = (callArgs as Record<string, z.ZodType | undefined>)[b.method];
        if (!schema || !Object.hasOwn(callArgs, b.method)) {
          /* Precondition: order methods are reachable only through their own routes and actions. */
          if (isAllowedMethod(b.method))
            throw new KeywardenError("ERR_INVALID_ARGUMENT", "order methods have their own routes");
          // The same refusal (and audit of funds-moving names) as the in-process handle.
          await this.#scope(grant, b.credentialId, undefined);
          const handle = t.handle(b.credentialId) as unknown as Record<
            string,
            () => Promise<unknown>
          >;
          return runAs(grant, () => (handle[b.method] as () => Promise<unknown>)());
        }
        const args = argsFromWire(parse(schema, b.args) as unknown[]);
        const method = b.method as CallMethod;
        if (PRIVATE_READS.includes(method)) {
          await this.#scope(grant, b.credentialId, "read");
          return runAs(grant, () =>
            t.read(
              b.credentialId,
              method as "fetchOrder",
              method === "fetchOrder" ? args.slice(0, 2) : args,
            ),
          );
        }
        await this.#scope(grant, b.credentialId, undefined);
        return runAs(grant, () => t.marketData(b.credentialId, method as "fetchTicker", args));
      }
      case "killswitch": {
        const b = parse(killBody, body);
        return runAs(grant, () => t.fireKillSwitch(grant.userId, b.reason));
      }
      default:
        throw new KeywardenError("ERR_GUARD_NOT_FOUND", "resource not found");
    }
  }

  /** Checks the operator credential (constant-time, on hashes). */
  #requireOperator(caller: CallerInfo): Identity {
    const presented = sha(bearerOf(caller.authorization));
    /* Precondition: operator routes need the operator credential, compared in constant time. */
    if (!timingSafeEqual(presented, this.#operatorHash) || bearerOf(caller.authorization) === "") {
      this.metrics.refused++;
      throw unauthenticated();
    }
    return this.#operator;
  }

  /** Runs one operator route. */
  async operator(route: string, caller: CallerInfo, body: unknown): Promise<unknown> {
    const op = this.#requireOperator(caller);
    const c = this.#c;
    switch (route) {
      case "killswitch": {
        const b = parse(operatorKillBody, body);
        return runAs(op, () =>
          b.release
            ? c.trading.releaseKillSwitch(b.userId, b.reason)
            : c.trading.fireKillSwitch(b.userId, b.reason).catch((err: unknown) => {
                // The switch is set even when some cancels failed; report that as data.
                if (isKeywardenError(err, "ERR_TRADING_PARTIAL_CANCEL")) return err.cause;
                throw err;
              }),
        );
      }
      case "emergency": {
        const b = parse(emergencyBody, body);
        if (!c.emergency)
          throw new KeywardenError("ERR_NOT_SUPPORTED", "emergency revocation is not configured");
        const report = await runAs(op, () =>
          emergencyRevokeAll(b.reason, {
            state: c.state,
            audit: c.audit,
            vault: c.emergency as EmergencyVault,
          }),
        );
        // Every grant is revoked, so every capability fails its grant check from now on.
        return report;
      }
      case "revoke": {
        const b = parse(revokeBody, body);
        const rec = await c.capabilities.get(b.capabilityId);
        const n = await c.capabilities.revoke({ capabilityId: b.capabilityId }, this.#now());
        if (rec) await c.vault.revokeGrant(op, { grantId: rec.grantId, userId: rec.userId });
        return { revoked: n };
      }
      case "metrics":
        return { ...this.metrics, inflightOrders: this.inflightOrders };
      default:
        throw new KeywardenError("ERR_GUARD_NOT_FOUND", "resource not found");
    }
  }
}
