/**
 * The kill switch, as functions of the client's internal context. Firing writes the persistent
 * state under the per-user lock (so no order can pass the check after it), waits for orders that
 * passed the check before it, then cancels every open order on every enabled credential of the
 * user with the authorization the user left (an explicit one, the caller's own session or grant,
 * else a live grant covering `cancel`), retrying with backoff, and reports each account as
 * `canceled`, `failed` or `not-authorized` — never skipped silently. Releasing writes the state
 * back under the same lock. Both are recorded in the user's audit chain.
 */

import { z } from "zod";
import { KeywardenError } from "../errors.js";
import { hostIdentity, type Identity } from "../guard/identity.js";
import { observeKillSwitch } from "../observability/hooks.js";
import type { ClientContext } from "./client-context.js";
import type { ExchangeLike } from "./exchange-like.js";
import type { TradingCredentialMeta } from "./ports.js";
import type { KillSwitchState } from "./state.js";

/** The result of one exchange's cancel during a kill switch. */
export interface CancelOutcome {
  readonly credentialId: string;
  readonly exchange: string;
  /** `canceled`: cancel-all succeeded; `failed`: every attempt failed; `not-authorized`: no session or grant to open the key. */
  readonly outcome: "canceled" | "failed" | "not-authorized";
  readonly attempts: number;
  readonly error?: string | undefined;
}

/** What `TradingClient.fireKillSwitch` did. */
export interface KillSwitchReport {
  readonly userId: string;
  readonly state: KillSwitchState;
  readonly cancels: readonly CancelOutcome[];
}

/**
 * Cancels every open order on one account. Many exchanges (Binance among them) cancel "all" only
 * per symbol, so this lists the open orders first and cancels per symbol, then checks that nothing
 * is left open.
 */
async function cancelEverything(x: ExchangeLike): Promise<Array<{ id: string; symbol: string }>> {
  const open = await x.fetchOpenOrders();
  const symbols = [...new Set(open.map((o) => o.symbol))];
  for (const symbol of symbols) await x.cancelAllOrders(symbol);
  const left = symbols.length > 0 ? await x.fetchOpenOrders() : [];
  if (left.length > 0) {
    throw new KeywardenError(
      "ERR_TRADING_PARTIAL_CANCEL",
      `${left.length} order(s) still open after cancel`,
    );
  }
  return open.map((o) => ({ id: String(o.id), symbol: o.symbol }));
}

/** Fires `userId`'s kill switch and cancels their open orders everywhere. */
export async function fireKillSwitch(
  ctx: ClientContext,
  identity: Identity,
  userId: string,
  reason: string,
  authorization?: Identity,
): Promise<KillSwitchReport> {
  z.string().min(1).max(1000).parse(reason);
  const state: KillSwitchState = {
    active: true,
    reason,
    changedBy: identity.kind === "operator" ? `operator:${identity.userId}` : identity.userId,
    changedAt: new Date().toISOString(),
  };
  await ctx.lock.run(userId, () => ctx.state.set(userId, state));
  observeKillSwitch("active", "client");
  /* Postcondition: orders that passed the check before the switch complete first, then are canceled. */
  await Promise.allSettled([...(ctx.inflight.get(userId) ?? [])]);
  const cancels = await cancelEverywhere(ctx, identity, userId, authorization);
  await ctx.record(identity, userId, "killswitch.fired", {
    scope: "all",
    reason,
    cancels: cancels.map((c) => ({
      exchange: c.exchange,
      credentialId: c.credentialId,
      outcome: c.outcome,
      attempts: c.attempts,
    })),
  });
  const report = { userId, state, cancels };
  const failed = cancels.filter((c) => c.outcome !== "canceled");
  if (failed.length > 0) {
    throw new KeywardenError(
      "ERR_TRADING_PARTIAL_CANCEL",
      `kill switch is active, but open orders could not be canceled on ${failed.length} account(s)`,
      {
        details: { userId, failed: failed.length, canceled: cancels.length - failed.length },
        cause: report,
      },
    );
  }
  return report;
}

/**
 * Cancels every open order of `userId` on every enabled credential, with the authorization the
 * user left: the explicit one, else the caller's own session or grant, else (operators, hosts) a
 * live grant whose scope covers `cancel` on that exchange. An account with none is reported as
 * `not-authorized`, never skipped silently.
 */
async function cancelEverywhere(
  ctx: ClientContext,
  caller: Identity,
  userId: string,
  explicit?: Identity,
): Promise<CancelOutcome[]> {
  const userOwn = (i: Identity | undefined) =>
    i && i.userId === userId && (i.kind === "session" || i.kind === "grant") ? i : undefined;
  const own = userOwn(explicit) ?? userOwn(caller);
  // Listing needs no key: metadata only, readable by a host identity for the user.
  const lister =
    own ?? hostIdentity(userId, { id: `killswitch:${caller.id}`.slice(0, 256), ttlMs: 60_000 });
  let creds: TradingCredentialMeta[];
  try {
    creds = (await ctx.vault.list(lister)).filter((c) => !c.disabled);
  } catch {
    return [{ credentialId: "*", exchange: "*", outcome: "not-authorized", attempts: 0 }];
  }
  const row = (c: TradingCredentialMeta) => ({ ...c, userId });
  return Promise.all(
    creds.map(async (c): Promise<CancelOutcome> => {
      const auth =
        own ??
        (await ctx.vault.findGrant?.(caller, userId, {
          exchange: c.exchange,
          action: "cancel",
        }));
      if (!auth) {
        return {
          credentialId: c.credentialId,
          exchange: c.exchange,
          outcome: "not-authorized",
          attempts: 0,
        };
      }
      let lastError = "";
      for (let attempt = 1; attempt <= ctx.cancelAttempts; attempt++) {
        try {
          const canceled = await ctx.call(auth, row(c), "cancel", (x) => cancelEverything(x));
          for (const o of canceled) {
            await ctx.record(auth, userId, "order.canceled", {
              exchange: c.exchange,
              orderId: o.id,
              symbol: o.symbol,
            });
          }
          return {
            credentialId: c.credentialId,
            exchange: c.exchange,
            outcome: "canceled",
            attempts: attempt,
          };
        } catch (err) {
          lastError = (err as { code?: string }).code ?? "error";
          if ((err as { code?: string }).code?.startsWith("ERR_VAULT")) {
            return {
              credentialId: c.credentialId,
              exchange: c.exchange,
              outcome: "not-authorized",
              attempts: attempt,
              error: lastError,
            };
          }
          await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
        }
      }
      return {
        credentialId: c.credentialId,
        exchange: c.exchange,
        outcome: "failed",
        attempts: ctx.cancelAttempts,
        error: lastError,
      };
    }),
  );
}

/** Releases `userId`'s kill switch. */
export async function releaseKillSwitch(
  ctx: ClientContext,
  identity: Identity,
  userId: string,
  reason: string,
): Promise<KillSwitchState> {
  z.string().min(1).max(1000).parse(reason);
  const state: KillSwitchState = {
    active: false,
    reason,
    changedBy: identity.kind === "operator" ? `operator:${identity.userId}` : identity.userId,
    changedAt: new Date().toISOString(),
  };
  await ctx.lock.run(userId, () => ctx.state.set(userId, state));
  observeKillSwitch("inactive", "client");
  await ctx.record(identity, userId, "killswitch.released", { scope: "all", reason });
  return state;
}
