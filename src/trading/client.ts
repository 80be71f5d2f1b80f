import { randomBytes } from "node:crypto";
import { z } from "zod";
import { userChainId } from "../audit/entry.js";
import type { JsonValue } from "../canonical.js";
import { isKeywardenError, KeywardenError } from "../errors.js";
import { requireIdentity } from "../guard/context.js";
import { hostIdentity, type Identity } from "../guard/identity.js";
import { owned } from "../guard/owned.js";
import type { Secret } from "../secret.js";
import type { ExchangeFactory, ExchangeLike, OrderLike } from "./exchange-like.js";
import { KeyedMutex } from "./lock.js";
import {
  FUNDS_MOVING_METHODS,
  isAllowedMethod,
  isFundsMovingName,
  MARKET_DATA_METHODS,
} from "./methods.js";
import { InstancePool } from "./pool.js";
import type { TradingAudit, TradingCredentialMeta, TradingVault } from "./ports.js";
import { compareOrders, type LoggedOrder, type ReconciliationReport } from "./reconcile.js";
import { assertRisk, type RiskLimits, riskLimitsSchema } from "./risk.js";
import { exchangeError, scrubExchangeError } from "./scrub.js";
import type { KillSwitchState, TradingStateStore } from "./state.js";

/** Options of {@link createTradingClient}. */
export interface TradingClientOptions {
  /** Where credentials are opened (keywarden's `Vault`). */
  readonly vault: TradingVault;
  /** Where every action is recorded (keywarden's `AuditLog`). */
  readonly audit: TradingAudit;
  /** Persistent kill-switch state, shared by every process that trades. */
  readonly state: TradingStateStore;
  /** Creates credential-free exchange instances (see `keywarden/trading` `ccxtExchangeFactory`). */
  readonly exchanges: ExchangeFactory;
  /** Risk limits per user (a fixed object, or a lookup). */
  readonly risk?: RiskLimits | ((userId: string) => RiskLimits | undefined) | undefined;
  /** Most pooled instances per exchange (default 8). */
  readonly maxInstancesPerExchange?: number | undefined;
  /** Attempts per exchange when the kill switch cancels open orders (default 3). */
  readonly cancelAttempts?: number | undefined;
}

/** An order request, as ccxt's `createOrder` takes it. */
export interface OrderRequest {
  readonly symbol: string;
  readonly type: "limit" | "market";
  readonly side: "buy" | "sell";
  readonly amount: number;
  readonly price?: number | undefined;
  /** Only order-shaping parameters: `timeInForce`, `postOnly`, `reduceOnly`, `triggerPrice`, `stopPrice`. */
  readonly params?: Readonly<Record<string, string | number | boolean>> | undefined;
}

const ALLOWED_PARAMS = new Set([
  "timeInForce",
  "postOnly",
  "reduceOnly",
  "triggerPrice",
  "stopPrice",
]);
const symbolSchema = z
  .string()
  .regex(/^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}(?::[A-Z0-9]{1,20})?$/, "a ccxt symbol such as BTC/USDT");
const orderSchema = z
  .object({
    symbol: symbolSchema,
    type: z.enum(["limit", "market"]),
    side: z.enum(["buy", "sell"]),
    amount: z.number().positive().finite(),
    price: z.number().positive().finite().optional(),
    params: z
      .record(z.string(), z.union([z.string().max(64), z.number().finite(), z.boolean()]))
      .optional(),
  })
  .strict()
  .refine((o) => o.type === "market" || o.price !== undefined, "a limit order needs a price")
  .refine(
    (o) => Object.keys(o.params ?? {}).every((k) => ALLOWED_PARAMS.has(k)),
    "unsupported order parameter",
  );
const orderIdSchema = z.string().min(1).max(128);
const parameterSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/),
    from: z.json().optional(),
    to: z.json(),
  })
  .strict();

/** Options of {@link TradingClient.createOrder}. */
export interface CreateOrderOptions {
  /**
   * The client order id sent to the exchange and recorded in the write-ahead intent, 8-32
   * characters of `[A-Za-z0-9_-]` (default: a fresh random `kw…` id). The signer uses the remote
   * client's id here so that a retry is recognised as the same order.
   */
  readonly clientOrderId?: string | undefined;
}

/** Accepted client order ids: within every supported exchange's own limit. */
export const CLIENT_ORDER_ID = /^[A-Za-z0-9_-]{8,32}$/;

/** The result of one exchange's cancel during a kill switch. */
export interface CancelOutcome {
  readonly credentialId: string;
  readonly exchange: string;
  /** `canceled`: cancel-all succeeded; `failed`: every attempt failed; `not-authorized`: no session or grant to open the key. */
  readonly outcome: "canceled" | "failed" | "not-authorized";
  readonly attempts: number;
  readonly error?: string | undefined;
}

/** What {@link TradingClient.fireKillSwitch} did. */
export interface KillSwitchReport {
  readonly userId: string;
  readonly state: KillSwitchState;
  readonly cancels: readonly CancelOutcome[];
}

/**
 * A per-credential trading handle: exactly the allowlisted unified methods, nothing else. Any
 * other property — `withdraw`, `transfer`, implicit endpoints, `request`, the credential fields —
 * throws `ERR_TRADING_METHOD_REFUSED` before any network call; funds-moving names are also audited.
 */
export interface TradingHandle {
  createOrder(
    symbol: string,
    type: "limit" | "market",
    side: "buy" | "sell",
    amount: number,
    price?: number,
    params?: OrderRequest["params"],
  ): Promise<OrderLike>;
  cancelOrder(orderId: string, symbol?: string): Promise<unknown>;
  cancelAllOrders(symbol?: string): Promise<unknown>;
  fetchOrder(orderId: string, symbol?: string): Promise<OrderLike>;
  fetchOpenOrders(symbol?: string, since?: number, limit?: number): Promise<OrderLike[]>;
  fetchMyTrades(symbol?: string, since?: number, limit?: number): Promise<unknown[]>;
  fetchBalance(): Promise<unknown>;
  fetchTicker(symbol: string): Promise<unknown>;
  fetchTickers(symbols?: string[]): Promise<unknown>;
  fetchOrderBook(symbol: string, limit?: number): Promise<unknown>;
  fetchOHLCV(symbol: string, timeframe?: string, since?: number, limit?: number): Promise<unknown>;
  fetchTrades(symbol: string, since?: number, limit?: number): Promise<unknown>;
  fetchMarkets(): Promise<unknown>;
}

type Row = TradingCredentialMeta & { userId: string };
type PrivateRead = "fetchOrder" | "fetchOpenOrders" | "fetchMyTrades" | "fetchBalance";

const newClientOrderId = () => `kw${randomBytes(12).toString("hex")}`;
const decimal = (n: number) => {
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, "") : s;
};

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

/** Sets a credential set on an instance as ccxt expects (strings), for one call. */
function applyCredentials(
  instance: ExchangeLike,
  creds: Readonly<Record<string, Secret>>,
): string[] {
  const values: string[] = [];
  const take = (name: string) => {
    const s = creds[name];
    if (!s) return undefined;
    const v = s.useText((t) => t);
    values.push(v);
    return v;
  };
  instance.apiKey = take("apiKey");
  instance.secret = take("secret");
  instance.password = take("passphrase") ?? take("password");
  instance.uid = take("uid");
  instance.privateKey = take("privateKey");
  instance.verbose = false;
  return values;
}

/**
 * The trading client: what bot authors call instead of raw ccxt. Every order call runs
 * guard → kill-switch check and write-ahead intent (under one per-user lock) → credentials opened
 * for this call only → the exchange call on a pooled instance → the result entry.
 */
export class TradingClient {
  readonly #vault: TradingVault;
  readonly #audit: TradingAudit;
  readonly #state: TradingStateStore;
  readonly #pool: InstancePool;
  readonly #risk: (userId: string) => RiskLimits | undefined;
  readonly #cancelAttempts: number;
  readonly #lock = new KeyedMutex();
  readonly #inflight = new Map<string, Set<Promise<unknown>>>();

  /** Places an order: see {@link TradingHandle.createOrder}. */
  readonly createOrder: (
    credentialId: string,
    order: OrderRequest,
    options?: CreateOrderOptions,
  ) => Promise<OrderLike>;
  /** Cancels one order. */
  readonly cancelOrder: (
    credentialId: string,
    orderId: string,
    symbol?: string,
  ) => Promise<unknown>;
  /** Cancels every open order (of one symbol, or all). */
  readonly cancelAllOrders: (credentialId: string, symbol?: string) => Promise<unknown>;
  /** Runs one allowlisted private read. */
  readonly read: (
    credentialId: string,
    method: PrivateRead,
    args: readonly unknown[],
  ) => Promise<unknown>;
  /** Fires the caller's (or, for operators, the named user's) kill switch. */
  readonly fireKillSwitch: (
    userId: string,
    reason: string,
    options?: { authorization?: Identity },
  ) => Promise<KillSwitchReport>;
  /** Releases a fired kill switch. */
  readonly releaseKillSwitch: (userId: string, reason: string) => Promise<KillSwitchState>;
  /**
   * Compares the exchange's orders since `since` (epoch ms) with the orders the audit log records
   * as placed through keywarden, and reports orders placed around keywarden and logged orders the
   * exchange does not know.
   */
  readonly reconcile: (
    credentialId: string,
    options?: { since?: number; symbols?: readonly string[] },
  ) => Promise<ReconciliationReport>;
  /** Records a host-registered strategy parameter change as `parameter.changed` (before and after). */
  readonly recordParameterChange: (
    userId: string,
    change: { name: string; from?: JsonValue; to: JsonValue },
  ) => Promise<void>;

  constructor(options: TradingClientOptions) {
    this.#vault = options.vault;
    this.#audit = options.audit;
    this.#state = options.state;
    this.#pool = new InstancePool(options.exchanges, {
      maxPerExchange: options.maxInstancesPerExchange ?? 8,
    });
    const risk = options.risk;
    this.#risk = typeof risk === "function" ? risk : () => risk;
    if (risk && typeof risk !== "function") riskLimitsSchema.parse(risk);
    this.#cancelAttempts = options.cancelAttempts ?? 3;

    const credentialPolicy = (name: string) => ({
      name,
      resource: "credential",
      load: (id: string, identity: Identity) => this.#credential(identity, id),
      owner: (row: Row) => row.userId,
    });
    this.createOrder = owned<[string, OrderRequest, CreateOrderOptions?], Row, Promise<OrderLike>>(
      { ...credentialPolicy("trading.createOrder"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _credentialId, order, options) =>
        this.#createOrder(identity, row, order, options?.clientOrderId),
    );
    this.cancelOrder = owned<[string, string, string?], Row, Promise<unknown>>(
      { ...credentialPolicy("trading.cancelOrder"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _c, orderId, symbol) => this.#cancelOrder(identity, row, orderId, symbol),
    );
    this.cancelAllOrders = owned<[string, string?], Row, Promise<unknown>>(
      {
        ...credentialPolicy("trading.cancelAllOrders"),
        id: (credentialId: string) => credentialId,
      },
      ({ identity, row }, _c, symbol) => this.#cancelAll(identity, row, symbol),
    );
    this.read = owned<[string, PrivateRead, readonly unknown[]], Row, Promise<unknown>>(
      { ...credentialPolicy("trading.read"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _c, method, args) => this.#privateRead(identity, row, method, args),
    );
    const accountPolicy = (name: string) => ({
      name,
      resource: "account",
      allowOperators: true,
      id: (userId: string, ..._rest: unknown[]) => userId,
      load: (userId: string, identity: Identity) =>
        identity.kind === "operator" || identity.userId === userId ? { userId } : undefined,
      owner: (row: { userId: string }) => row.userId,
    });
    this.fireKillSwitch = owned<
      [string, string, { authorization?: Identity }?],
      { userId: string },
      Promise<KillSwitchReport>
    >(accountPolicy("trading.fireKillSwitch"), ({ identity, row }, _u, reason, opts) =>
      this.#fire(identity, row.userId, reason, opts?.authorization),
    );
    this.reconcile = owned<
      [string, { since?: number; symbols?: readonly string[] }?],
      Row,
      Promise<ReconciliationReport>
    >(
      { ...credentialPolicy("trading.reconcile"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _c, options) => this.#reconcile(identity, row, options ?? {}),
    );
    this.recordParameterChange = owned<
      [string, { name: string; from?: JsonValue; to: JsonValue }],
      { userId: string },
      Promise<void>
    >(
      { ...accountPolicy("trading.recordParameterChange"), allowOperators: false },
      async ({ identity, row }, _u, change) => {
        const parsed = parameterSchema.parse(change);
        await this.#record(identity, row.userId, "parameter.changed", {
          name: parsed.name,
          ...(parsed.from === undefined ? {} : { from: parsed.from }),
          to: parsed.to,
        });
      },
    );
    this.releaseKillSwitch = owned<[string, string], { userId: string }, Promise<KillSwitchState>>(
      accountPolicy("trading.releaseKillSwitch"),
      ({ identity, row }, _u, reason) => this.#release(identity, row.userId, reason),
    );
  }

  /**
   * A handle for one stored credential set: the allowlisted unified methods, each running as the
   * identity in the current context (`runAs`).
   *
   * @example
   * ```ts
   * const binance = trading.handle(credentialId);
   * await runAs(grant, () => binance.createOrder("BTC/USDT", "limit", "buy", 0.01, 60000));
   * ```
   */
  handle(credentialId: string): TradingHandle {
    const target: TradingHandle = {
      createOrder: (symbol, type, side, amount, price, params) =>
        this.createOrder(credentialId, { symbol, type, side, amount, price, params }),
      cancelOrder: (orderId, symbol) => this.cancelOrder(credentialId, orderId, symbol),
      cancelAllOrders: (symbol) => this.cancelAllOrders(credentialId, symbol),
      fetchOrder: (orderId, symbol) =>
        this.read(credentialId, "fetchOrder", [orderId, symbol]) as Promise<OrderLike>,
      fetchOpenOrders: (...a) =>
        this.read(credentialId, "fetchOpenOrders", a) as Promise<OrderLike[]>,
      fetchMyTrades: (...a) => this.read(credentialId, "fetchMyTrades", a) as Promise<unknown[]>,
      fetchBalance: () => this.read(credentialId, "fetchBalance", []),
      fetchTicker: (symbol) => this.marketData(credentialId, "fetchTicker", [symbol]),
      fetchTickers: (symbols) => this.marketData(credentialId, "fetchTickers", [symbols]),
      fetchOrderBook: (symbol, limit) =>
        this.marketData(credentialId, "fetchOrderBook", [symbol, limit]),
      fetchOHLCV: (...a) => this.marketData(credentialId, "fetchOHLCV", a),
      fetchTrades: (...a) => this.marketData(credentialId, "fetchTrades", a),
      fetchMarkets: () => this.marketData(credentialId, "fetchMarkets", []),
    };
    return new Proxy(target, {
      get: (t, name) => {
        if (typeof name === "symbol") return undefined;
        if (isAllowedMethod(name)) return t[name as keyof TradingHandle];
        return (..._args: unknown[]) => this.#refuse(credentialId, name);
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
      getOwnPropertyDescriptor: (t, name) =>
        typeof name === "string" && isAllowedMethod(name)
          ? Reflect.getOwnPropertyDescriptor(t, name)
          : undefined,
    });
  }

  /**
   * Public market data for the exchange of a credential, from the shared credential-free instance
   * (no credentials are opened).
   */
  async marketData(
    credentialId: string,
    method: (typeof MARKET_DATA_METHODS)[number],
    args: readonly unknown[],
  ): Promise<unknown> {
    const identity = requireIdentity();
    const row = await this.#credential(identity, credentialId);
    if (!row || row.userId !== identity.userId)
      throw new KeywardenError("ERR_GUARD_NOT_FOUND", "resource not found");
    if (!(MARKET_DATA_METHODS as readonly string[]).includes(method))
      return this.#refuse(credentialId, method);
    const shared = await this.#pool.marketData(row.exchange);
    const fn = (shared as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    if (typeof fn !== "function")
      throw new KeywardenError("ERR_NOT_SUPPORTED", `${row.exchange} has no ${method}`);
    try {
      return await fn.apply(shared, args as unknown[]);
    } catch (err) {
      throw exchangeError(row.exchange, scrubExchangeError(err, []));
    }
  }

  async #credential(
    identity: Identity,
    credentialId: string,
  ): Promise<(TradingCredentialMeta & { userId: string }) | undefined> {
    if (identity.kind === "operator") return undefined;
    const list = await this.#vault.list(identity);
    const found = list.find((c) => c.credentialId === credentialId);
    return found ? { ...found, userId: identity.userId } : undefined;
  }

  async #record(
    identity: Identity,
    userId: string,
    action: string,
    payload: unknown,
  ): Promise<void> {
    await this.#audit.appendEntry(userChainId(userId), { action, payload, actor: identity });
  }

  async #refuse(credentialId: string, method: string): Promise<never> {
    const identity = requireIdentity();
    /* Precondition: a refused method never reaches the network; funds-moving attempts are audited. */
    if (FUNDS_MOVING_METHODS.has(method) || isFundsMovingName(method)) {
      const row = await this.#credential(identity, credentialId).catch(() => undefined);
      if (row)
        await this.#record(identity, row.userId, "trading.refused", {
          exchange: row.exchange,
          method: method.slice(0, 128),
        });
    }
    throw new KeywardenError(
      "ERR_TRADING_METHOD_REFUSED",
      `method ${method.slice(0, 64)} is not available on a trading handle`,
      {
        details: { method: method.slice(0, 64) },
      },
    );
  }

  async #killState(userId: string): Promise<KillSwitchState> {
    try {
      return await this.#state.get(userId);
    } catch (cause) {
      /* Precondition: when the kill-switch state cannot be read, no order is sent. */
      throw new KeywardenError(
        "ERR_TRADING_STATE_UNAVAILABLE",
        "kill-switch state is unavailable; order refused",
        { cause },
      );
    }
  }

  /** Opens the credentials and runs `fn` on a pooled instance, scrubbing any exchange error. */
  async #call<T>(
    identity: Identity,
    row: TradingCredentialMeta,
    action: string,
    fn: (x: ExchangeLike) => Promise<T>,
  ): Promise<T> {
    return this.#vault.withCredentials(
      identity,
      row.credentialId,
      (creds) =>
        this.#pool.withInstance(row.exchange, async (instance) => {
          const values = applyCredentials(instance, creds);
          try {
            return await fn(instance);
          } catch (err) {
            // keywarden's own errors are already safe; everything else is scrubbed first.
            if (isKeywardenError(err)) throw err;
            throw exchangeError(row.exchange, scrubExchangeError(err, values));
          }
        }),
      { action },
    );
  }

  #track<T>(userId: string, p: Promise<T>): Promise<T> {
    let set = this.#inflight.get(userId);
    if (!set) {
      set = new Set();
      this.#inflight.set(userId, set);
    }
    set.add(p);
    const done = () => {
      set.delete(p);
      if (set.size === 0) this.#inflight.delete(userId);
    };
    p.then(done, done);
    return p;
  }

  async #createOrder(
    identity: Identity,
    row: TradingCredentialMeta & { userId: string },
    input: OrderRequest,
    chosenClientOrderId?: string,
  ): Promise<OrderLike> {
    if (chosenClientOrderId !== undefined && !CLIENT_ORDER_ID.test(chosenClientOrderId))
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid clientOrderId");
    const parsed = orderSchema.safeParse(input);
    if (!parsed.success)
      throw new KeywardenError(
        "ERR_INVALID_ARGUMENT",
        `invalid order: ${parsed.error.issues[0]?.message}`,
      );
    const order = parsed.data;
    const clientOrderId = chosenClientOrderId ?? newClientOrderId();
    const base = {
      exchange: row.exchange,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      amount: decimal(order.amount),
      ...(order.price === undefined ? {} : { price: decimal(order.price) }),
      clientOrderId,
    };
    const limits = this.#risk(row.userId);
    const lastPrice =
      limits && (limits.maxNotional !== undefined || limits.priceBand !== undefined)
        ? await this.#lastPrice(row.exchange, order.symbol)
        : undefined;
    const send = await this.#lock.run(row.userId, async () => {
      /* Precondition: the kill-switch check and the order intent happen under the same per-user lock. */
      const state = await this.#killState(row.userId);
      if (state.active) {
        throw new KeywardenError(
          "ERR_TRADING_KILL_SWITCH_ACTIVE",
          "kill switch is active; order refused",
        );
      }
      if (limits) {
        try {
          assertRisk(limits, { ...order, lastPrice });
        } catch (err) {
          await this.#record(identity, row.userId, "order.failed", {
            exchange: row.exchange,
            symbol: order.symbol,
            side: order.side,
            clientOrderId,
            code: "ERR_TRADING_RISK_LIMIT",
            message: (err as Error).message.slice(0, 500),
          });
          throw err;
        }
      }
      /* Precondition: if the write-ahead intent cannot be recorded, nothing is sent. */
      try {
        await this.#record(identity, row.userId, "order.intent", base);
      } catch (cause) {
        throw new KeywardenError(
          "ERR_TRADING_INTENT_NOT_RECORDED",
          "order intent could not be recorded; nothing was sent",
          { cause },
        );
      }
      return this.#track(row.userId, this.#sendOrder(identity, row, order, clientOrderId, limits));
    });
    const result = await send;
    return result;
  }

  async #sendOrder(
    identity: Identity,
    row: TradingCredentialMeta & { userId: string },
    order: z.infer<typeof orderSchema>,
    clientOrderId: string,
    limits: RiskLimits | undefined,
  ): Promise<OrderLike> {
    try {
      const placed = await this.#call(identity, row, "trade", async (x) => {
        if (limits?.maxOpenOrders !== undefined) {
          const open = await x.fetchOpenOrders(order.symbol);
          assertRisk(
            { maxOpenOrders: limits.maxOpenOrders },
            { ...order, openOrders: open.length },
          );
        }
        return x.createOrder(order.symbol, order.type, order.side, order.amount, order.price, {
          ...order.params,
          clientOrderId,
        });
      });
      await this.#record(identity, row.userId, "order.placed", {
        exchange: row.exchange,
        symbol: order.symbol,
        side: order.side,
        type: order.type,
        amount: decimal(order.amount),
        ...(order.price === undefined ? {} : { price: decimal(order.price) }),
        clientOrderId,
        orderId: String(placed.id),
      });
      return placed;
    } catch (err) {
      const code = (err as { code?: string }).code ?? "ERR_TRADING_EXCHANGE_ERROR";
      await this.#record(identity, row.userId, "order.failed", {
        exchange: row.exchange,
        symbol: order.symbol,
        side: order.side,
        clientOrderId,
        code,
        message: String((err as Error).message ?? "").slice(0, 500),
      });
      throw err;
    }
  }

  async #lastPrice(exchange: string, symbol: string): Promise<number | undefined> {
    try {
      const ticker = await (await this.#pool.marketData(exchange)).fetchTicker(symbol);
      return typeof ticker.last === "number" ? ticker.last : undefined;
    } catch {
      return undefined; // the risk check fails closed without a last price
    }
  }

  async #cancelOrder(
    identity: Identity,
    row: TradingCredentialMeta & { userId: string },
    orderId: string,
    symbol?: string,
  ): Promise<unknown> {
    orderIdSchema.parse(orderId);
    if (symbol !== undefined) symbolSchema.parse(symbol);
    const result = await this.#call(identity, row, "cancel", (x) => x.cancelOrder(orderId, symbol));
    await this.#record(identity, row.userId, "order.canceled", {
      exchange: row.exchange,
      orderId,
      ...(symbol ? { symbol } : {}),
    });
    return result;
  }

  async #cancelAll(
    identity: Identity,
    row: TradingCredentialMeta & { userId: string },
    symbol?: string,
  ): Promise<unknown> {
    if (symbol !== undefined) symbolSchema.parse(symbol);
    const result = await this.#call(identity, row, "cancel", (x) => x.cancelAllOrders(symbol));
    const canceled = Array.isArray(result) ? (result as OrderLike[]) : [];
    for (const o of canceled) {
      if (o?.id)
        await this.#record(identity, row.userId, "order.canceled", {
          exchange: row.exchange,
          orderId: String(o.id),
          symbol: o.symbol,
        });
    }
    return result;
  }

  async #privateRead(
    identity: Identity,
    row: TradingCredentialMeta,
    method: string,
    args: readonly unknown[],
  ): Promise<unknown> {
    if (!["fetchOrder", "fetchOpenOrders", "fetchMyTrades", "fetchBalance"].includes(method))
      return this.#refuse(row.credentialId, method);
    return this.#call(identity, row, "read", async (x) => {
      const fn = (
        x as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>
      )[method];
      if (typeof fn !== "function")
        throw new KeywardenError("ERR_NOT_SUPPORTED", `${row.exchange} has no ${method}`);
      return fn.apply(x, args as unknown[]);
    });
  }

  async #fire(
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
    await this.#lock.run(userId, () => this.#state.set(userId, state));
    /* Postcondition: orders that passed the check before the switch complete first, then are canceled. */
    await Promise.allSettled([...(this.#inflight.get(userId) ?? [])]);
    const cancels = await this.#cancelEverywhere(identity, userId, authorization);
    await this.#record(identity, userId, "killswitch.fired", {
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
  async #cancelEverywhere(
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
      creds = (await this.#vault.list(lister)).filter((c) => !c.disabled);
    } catch {
      return [{ credentialId: "*", exchange: "*", outcome: "not-authorized", attempts: 0 }];
    }
    const row = (c: TradingCredentialMeta) => ({ ...c, userId });
    return Promise.all(
      creds.map(async (c): Promise<CancelOutcome> => {
        const auth =
          own ??
          (await this.#vault.findGrant?.(caller, userId, {
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
        for (let attempt = 1; attempt <= this.#cancelAttempts; attempt++) {
          try {
            const canceled = await this.#call(auth, row(c), "cancel", (x) => cancelEverything(x));
            for (const o of canceled) {
              await this.#record(auth, userId, "order.canceled", {
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
          attempts: this.#cancelAttempts,
          error: lastError,
        };
      }),
    );
  }

  async #reconcile(
    identity: Identity,
    row: Row,
    options: { since?: number; symbols?: readonly string[] },
  ): Promise<ReconciliationReport> {
    const since = options.since ?? 0;
    const logged: LoggedOrder[] = [];
    for await (const e of this.#audit.readEntries(userChainId(row.userId))) {
      const body = JSON.parse(e.body) as { action?: string; ts?: string };
      if (body.action !== "order.placed" || e.payload === null) continue;
      if (since && Date.parse(body.ts ?? "") < since) continue;
      const value = (JSON.parse(e.payload) as { value?: Record<string, unknown> }).value ?? {};
      if (value.exchange !== row.exchange || typeof value.orderId !== "string") continue;
      logged.push({
        orderId: value.orderId,
        clientOrderId: typeof value.clientOrderId === "string" ? value.clientOrderId : undefined,
        symbol: String(value.symbol),
        seq: e.seq,
      });
    }
    const symbols = [...new Set([...(options.symbols ?? []), ...logged.map((o) => o.symbol)])];
    for (const sym of symbols) symbolSchema.parse(sym);
    return this.#call(identity, row, "read", async (x) => {
      const history =
        typeof x.fetchOrders === "function" &&
        (x as { has?: Record<string, unknown> }).has?.fetchOrders !== false;
      const orders: OrderLike[] = [];
      for (const sym of symbols) {
        orders.push(
          ...(history && x.fetchOrders
            ? await x.fetchOrders(sym, since || undefined)
            : await x.fetchOpenOrders(sym)),
        );
      }
      return compareOrders(orders, logged, history ? "full" : "open-only");
    });
  }

  async #release(identity: Identity, userId: string, reason: string): Promise<KillSwitchState> {
    z.string().min(1).max(1000).parse(reason);
    const state: KillSwitchState = {
      active: false,
      reason,
      changedBy: identity.kind === "operator" ? `operator:${identity.userId}` : identity.userId,
      changedAt: new Date().toISOString(),
    };
    await this.#lock.run(userId, () => this.#state.set(userId, state));
    await this.#record(identity, userId, "killswitch.released", { scope: "all", reason });
    return state;
  }
}

/**
 * Creates a {@link TradingClient}.
 *
 * @example
 * ```ts
 * const trading = createTradingClient({ vault, audit: log, state: createFileTradingState(dir), exchanges: ccxtExchangeFactory() });
 * await runAs(grant, () => trading.handle(credentialId).createOrder("BTC/USDT", "limit", "buy", 0.01, 60000));
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for invalid risk limits.
 */
export function createTradingClient(options: TradingClientOptions): TradingClient {
  return new TradingClient(options);
}
