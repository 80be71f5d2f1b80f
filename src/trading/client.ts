/**
 * The trading client facade: `TradingClient` and `createTradingClient`. It owns the public
 * surface — the options, the ownership-guarded methods (each wrapped by `owned`, so every call is
 * checked against the caller's identity before anything runs), the per-credential `handle()`
 * proxy that exposes only the allowlisted methods, public market data — and the glue every action
 * goes through: finding a credential for the caller, recording an audit entry, refusing a method,
 * and opening credentials for one call on a pooled instance with exchange errors scrubbed. The
 * work itself lives in orders.ts (placement, cancels, private reads), kill-switch.ts (fencing and
 * cancel-and-lock) and reconcile.ts, as functions of the one `ClientContext` the class builds.
 */
import { userChainId } from "../audit/core/portable.js";
import type { JsonValue } from "../canonical.js";
import { isKeywardenError, KeywardenError } from "../errors.js";
import { requireIdentity } from "../guard/context.js";
import type { Identity } from "../guard/identity.js";
import { owned } from "../guard/owned.js";
import { registerKillSwitchState } from "../observability/gauges.js";
import { observeOrder } from "../observability/hooks.js";
import type { Secret } from "../secret.js";
import type { ClientContext, Row } from "./client-context.js";
import type { ExchangeFactory, ExchangeLike, OrderLike } from "./exchange-like.js";
import {
  type CancelOutcome,
  fireKillSwitch,
  type KillSwitchReport,
  releaseKillSwitch,
} from "./kill-switch.js";
import { KeyedMutex } from "./lock.js";
import {
  FUNDS_MOVING_METHODS,
  isAllowedMethod,
  isFundsMovingName,
  MARKET_DATA_METHODS,
} from "./methods.js";
import {
  CLIENT_ORDER_ID,
  type CreateOrderOptions,
  type OrderRequest,
  type PrivateRead,
  parameterSchema,
} from "./order-schemas.js";
import { cancelAll, cancelOrder, createOrder, privateRead } from "./orders.js";
import { InstancePool } from "./pool.js";
import type { TradingAudit, TradingCredentialMeta, TradingVault } from "./ports.js";
import { type ReconciliationReport, reconcileCredential } from "./reconcile.js";
import { type RiskLimits, riskLimitsSchema } from "./risk.js";
import { exchangeError, scrubExchangeError } from "./scrub.js";
import type { KillSwitchState, TradingStateStore } from "./state.js";

export type { CancelOutcome, CreateOrderOptions, KillSwitchReport, OrderRequest };
export { CLIENT_ORDER_ID };

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
  readonly #ctx: ClientContext;

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
    const risk = options.risk;
    const riskOf = typeof risk === "function" ? risk : () => risk;
    if (risk && typeof risk !== "function") riskLimitsSchema.parse(risk);
    this.#ctx = {
      vault: options.vault,
      audit: options.audit,
      state: options.state,
      pool: new InstancePool(options.exchanges, {
        maxPerExchange: options.maxInstancesPerExchange ?? 8,
      }),
      risk: riskOf,
      cancelAttempts: options.cancelAttempts ?? 3,
      lock: new KeyedMutex(),
      inflight: new Map<string, Set<Promise<unknown>>>(),
      call: (identity, row, action, fn) => this.#call(identity, row, action, fn),
      record: (identity, userId, action, payload) =>
        this.#record(identity, userId, action, payload),
      refuse: (credentialId, method) => this.#refuse(credentialId, method),
    };
    const ctx = this.#ctx;
    // The gauge registry holds the store through a WeakRef, which keeps its target alive until
    // the current job's microtasks have run: the target is the host's store, which references
    // nothing of this client, so a forgotten client stays collectable (never register `this`).
    registerKillSwitchState(options.state);

    const credentialPolicy = (name: string) => ({
      name,
      resource: "credential",
      load: (id: string, identity: Identity) => this.#credential(identity, id),
      owner: (row: Row) => row.userId,
    });
    this.createOrder = owned<[string, OrderRequest, CreateOrderOptions?], Row, Promise<OrderLike>>(
      { ...credentialPolicy("trading.createOrder"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _credentialId, order, options) =>
        observeOrder({ ...order, exchange: row.exchange }, () =>
          createOrder(ctx, identity, row, order, options?.clientOrderId),
        ),
    );
    this.cancelOrder = owned<[string, string, string?], Row, Promise<unknown>>(
      { ...credentialPolicy("trading.cancelOrder"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _c, orderId, symbol) => cancelOrder(ctx, identity, row, orderId, symbol),
    );
    this.cancelAllOrders = owned<[string, string?], Row, Promise<unknown>>(
      {
        ...credentialPolicy("trading.cancelAllOrders"),
        id: (credentialId: string) => credentialId,
      },
      ({ identity, row }, _c, symbol) => cancelAll(ctx, identity, row, symbol),
    );
    this.read = owned<[string, PrivateRead, readonly unknown[]], Row, Promise<unknown>>(
      { ...credentialPolicy("trading.read"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _c, method, args) => privateRead(ctx, identity, row, method, args),
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
      fireKillSwitch(ctx, identity, row.userId, reason, opts?.authorization),
    );
    this.reconcile = owned<
      [string, { since?: number; symbols?: readonly string[] }?],
      Row,
      Promise<ReconciliationReport>
    >(
      { ...credentialPolicy("trading.reconcile"), id: (credentialId: string) => credentialId },
      ({ identity, row }, _c, options) => reconcileCredential(ctx, identity, row, options ?? {}),
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
      ({ identity, row }, _u, reason) => releaseKillSwitch(ctx, identity, row.userId, reason),
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
    const shared = await this.#ctx.pool.marketData(row.exchange);
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
    const vault = this.#ctx.vault;
    // One row read by id through the caller's owner-scoped store (issue 21), when the vault has
    // it; the stored owner comes back and the guard compares it with the caller.
    if (typeof vault.describeCredential === "function")
      return vault.describeCredential(identity, credentialId);
    const list = await vault.list(identity);
    const found = list.find((c) => c.credentialId === credentialId);
    return found ? { ...found, userId: identity.userId } : undefined;
  }

  async #record(
    identity: Identity,
    userId: string,
    action: string,
    payload: unknown,
  ): Promise<void> {
    await this.#ctx.audit.appendEntry(userChainId(userId), { action, payload, actor: identity });
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

  /** Opens the credentials and runs `fn` on a pooled instance, scrubbing any exchange error. */
  async #call<T>(
    identity: Identity,
    row: TradingCredentialMeta,
    action: string,
    fn: (x: ExchangeLike) => Promise<T>,
  ): Promise<T> {
    return this.#ctx.vault.withCredentials(
      identity,
      row.credentialId,
      (creds) =>
        this.#ctx.pool.withInstance(row.exchange, async (instance) => {
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
