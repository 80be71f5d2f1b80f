/**
 * Idempotent order placement: the client order id is the idempotency key, end to end. The audit
 * log's write-ahead `order.intent` / `order.placed` / `order.failed` entries are the journal, so a
 * retry after a timeout or a signer restart finds what happened instead of placing a second order.
 *
 * @packageDocumentation
 */
import { userChainId } from "../audit/index.js";
import {
  ERROR_CODES,
  isKeywardenError,
  KeywardenError,
  type KeywardenErrorCode,
} from "../errors.js";
import type { Identity } from "../guard/index.js";
import { runAs } from "../guard/index.js";
import type { OrderLike, OrderRequest, TradingAudit, TradingClient } from "../trading/index.js";

interface Known {
  /** What the intent said: compared with a retry to catch a reused id. */
  readonly fingerprint: string;
  readonly symbol: string;
  state: "intent" | "placed" | "failed";
  orderId?: string;
  code?: string;
  message?: string;
  result?: OrderLike;
}

/** Errors thrown before anything is recorded: a retry re-evaluates them. */
const NOTHING_RECORDED = new Set<string>([
  "ERR_INVALID_ARGUMENT",
  "ERR_TRADING_KILL_SWITCH_ACTIVE",
  "ERR_TRADING_STATE_UNAVAILABLE",
  "ERR_TRADING_INTENT_NOT_RECORDED",
  "ERR_GUARD_NOT_FOUND",
  "ERR_GUARD_UNAUTHENTICATED",
]);

const decimal = (n: number | undefined) => {
  if (n === undefined) return "";
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, "") : s;
};
const fingerprintOf = (f: Record<string, unknown>) =>
  [f.exchange, f.symbol, f.side, f.type, f.amount, f.price ?? ""].join("\u0000");

const conflict = () =>
  new KeywardenError(
    "ERR_SIGNER_IDEMPOTENCY_CONFLICT",
    "this client order id was already used for a different order",
  );

/** @internal Per-user index of client order ids, rebuilt from the audit chain after a restart. */
export class OrderJournal {
  readonly #trading: TradingClient;
  readonly #audit: TradingAudit;
  readonly #known = new Map<string, Map<string, Known>>();
  readonly #loading = new Map<string, Promise<Map<string, Known>>>();
  readonly #inflight = new Map<string, Promise<OrderLike>>();

  constructor(trading: TradingClient, audit: TradingAudit) {
    this.#trading = trading;
    this.#audit = audit;
  }

  /** Orders in flight right now (for graceful shutdown). */
  get inflight(): number {
    return this.#inflight.size;
  }

  async #index(userId: string): Promise<Map<string, Known>> {
    const ready = this.#known.get(userId);
    if (ready) return ready;
    let loading = this.#loading.get(userId);
    if (!loading) {
      loading = (async () => {
        const map = new Map<string, Known>();
        for await (const e of this.#audit.readEntries(userChainId(userId))) {
          if (e.payload === null) continue;
          const action = (JSON.parse(e.body) as { action?: string }).action;
          if (action !== "order.intent" && action !== "order.placed" && action !== "order.failed")
            continue;
          const v = (JSON.parse(e.payload) as { value?: Record<string, unknown> }).value ?? {};
          const id = typeof v.clientOrderId === "string" ? v.clientOrderId : undefined;
          if (!id) continue;
          const k = map.get(id);
          if (action === "order.intent") {
            map.set(id, {
              fingerprint: fingerprintOf(v),
              symbol: String(v.symbol),
              state: "intent",
            });
          } else if (action === "order.placed") {
            map.set(id, {
              fingerprint: k?.fingerprint ?? fingerprintOf(v),
              symbol: String(v.symbol),
              state: "placed",
              orderId: String(v.orderId),
            });
          } else {
            map.set(id, {
              fingerprint: k?.fingerprint ?? "",
              symbol: String(v.symbol),
              state: "failed",
              code: String(v.code),
              message: String(v.message ?? ""),
            });
          }
        }
        this.#known.set(userId, map);
        this.#loading.delete(userId);
        return map;
      })();
      loading.catch(() => this.#loading.delete(userId));
      this.#loading.set(userId, loading);
    }
    return loading;
  }

  /**
   * Places `order` once per (user, client order id). A repeat returns the first outcome: the
   * same order (re-read from the exchange after a restart) or the same error.
   */
  async place(
    grant: Identity,
    credential: { credentialId: string; exchange: string },
    clientOrderId: string,
    order: OrderRequest,
  ): Promise<OrderLike> {
    const key = `${grant.userId}\u0000${clientOrderId}`;
    const fingerprint = fingerprintOf({
      exchange: credential.exchange,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      amount: decimal(order.amount),
      price: decimal(order.price),
    });
    const index = await this.#index(grant.userId);
    /* Precondition: a client order id already in flight or in the journal is never sent again. */
    const running = this.#inflight.get(key);
    if (running) {
      if (index.get(clientOrderId)?.fingerprint !== fingerprint) throw conflict();
      return running;
    }
    const known = index.get(clientOrderId);
    if (known) {
      if (known.fingerprint !== "" && known.fingerprint !== fingerprint) throw conflict();
      return this.#replay(grant, credential, clientOrderId, known);
    }
    const entry: Known = { fingerprint, symbol: order.symbol, state: "intent" };
    index.set(clientOrderId, entry);
    const p = runAs(grant, () =>
      this.#trading.createOrder(credential.credentialId, order, { clientOrderId }),
    ).then(
      (placed) => {
        Object.assign(entry, { state: "placed", orderId: String(placed.id), result: placed });
        return placed;
      },
      (err: unknown) => {
        const code = isKeywardenError(err) ? err.code : "ERR_INTERNAL";
        if (NOTHING_RECORDED.has(code)) index.delete(clientOrderId);
        else
          Object.assign(entry, {
            state: "failed",
            code,
            message: String((err as Error)?.message ?? ""),
          });
        throw err;
      },
    );
    this.#inflight.set(key, p);
    const done = () => this.#inflight.delete(key);
    p.then(done, done);
    return p;
  }

  async #replay(
    grant: Identity,
    credential: { credentialId: string; exchange: string },
    clientOrderId: string,
    known: Known,
  ): Promise<OrderLike> {
    const credentialId = credential.credentialId;
    if (known.state === "failed") {
      const code = (ERROR_CODES as readonly string[]).includes(known.code ?? "")
        ? (known.code as KeywardenErrorCode)
        : "ERR_TRADING_EXCHANGE_ERROR";
      throw new KeywardenError(code, known.message ?? "order failed");
    }
    if (known.state === "placed" && known.result) return known.result;
    // Placed before a restart (re-read it), or an intent whose outcome died with the process.
    try {
      const found = (await runAs(grant, () =>
        this.#trading.read(
          credentialId,
          "fetchOrder",
          known.state === "placed"
            ? [known.orderId, known.symbol]
            : [undefined, known.symbol, { clientOrderId }],
        ),
      )) as OrderLike;
      Object.assign(known, { state: "placed", orderId: String(found.id), result: found });
      return found;
    } catch (err) {
      const notFound =
        isKeywardenError(err, "ERR_TRADING_EXCHANGE_ERROR") &&
        err.details?.kind === "OrderNotFound";
      if (known.state === "intent" && notFound) {
        /* Postcondition: an intent whose order never reached the exchange is closed as not sent. */
        const message = "the signer stopped before this order was sent; it was not placed";
        await this.#audit.appendEntry(userChainId(grant.userId), {
          action: "order.failed",
          payload: {
            exchange: credential.exchange,
            symbol: known.symbol,
            clientOrderId,
            code: "ERR_SIGNER_ORDER_NOT_SENT",
            message,
          },
          actor: grant,
        });
        Object.assign(known, { state: "failed", code: "ERR_SIGNER_ORDER_NOT_SENT", message });
        return this.#replay(grant, credential, clientOrderId, known);
      }
      throw new KeywardenError(
        "ERR_SIGNER_UNAVAILABLE",
        "the outcome of this order is not known yet; retry with the same client order id",
      );
    }
  }
}
