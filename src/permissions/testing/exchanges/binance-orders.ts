import {
  type RegisteredKey,
  type Route,
  type RouteCall,
  reply,
  type SimResponse,
} from "../exchange-spec.js";
import {
  DEFAULT_BALANCES,
  exchangeInfo,
  fromUnits,
  multiply,
  type SpotMarket,
  type SpotSymbol,
  ticker24hr,
  toUnits,
} from "./binance-market.js";

/*
 * Binance spot order endpoints over an in-memory book per key: LIMIT orders rest open (locking
 * the quote or base balance), MARKET orders fill immediately at the last price; cancel, query and
 * trade history follow Binance's documented shapes and error codes (-1013 filter failure, -2010
 * insufficient balance, -2011 unknown order on cancel, -2013 order does not exist).
 */

interface Order {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  price: bigint;
  origQty: bigint;
  executedQty: bigint;
  quoteQty: bigint;
  status: "NEW" | "FILLED" | "CANCELED";
  type: "LIMIT" | "MARKET";
  side: "BUY" | "SELL";
  time: number;
  updateTime: number;
}

interface Book {
  nextId: number;
  orders: Map<number, Order>;
  trades: Record<string, unknown>[];
  balances: Map<string, { free: bigint; locked: bigint }>;
}

const BOOK = "binance.book";

const binanceError = (status: number, code: number, msg: string): SimResponse =>
  reply(status, { code, msg });
const noPermission = binanceError(401, -2015, "Invalid API-key, IP, or permissions for action.");
const unknownOrder = binanceError(400, -2011, "Unknown order sent.");
const noSuchOrder = binanceError(400, -2013, "Order does not exist.");
const insufficient = binanceError(
  400,
  -2010,
  "Account has insufficient balance for requested action.",
);
const badSymbol = binanceError(400, -1121, "Invalid symbol.");
const filterFailure = (filter: string) => binanceError(400, -1013, `Filter failure: ${filter}`);

function bookOf(key: RegisteredKey): Book {
  let book = key.state.get(BOOK) as Book | undefined;
  if (book === undefined) {
    const balances = new Map<string, { free: bigint; locked: bigint }>();
    for (const [asset, amount] of Object.entries(key.balances ?? DEFAULT_BALANCES)) {
      balances.set(asset, { free: toUnits(amount) ?? 0n, locked: 0n });
    }
    book = { nextId: 1, orders: new Map(), trades: [], balances };
    key.state.set(BOOK, book);
  }
  return book;
}

function balance(book: Book, asset: string): { free: bigint; locked: bigint } {
  let b = book.balances.get(asset);
  if (b === undefined) {
    b = { free: 0n, locked: 0n };
    book.balances.set(asset, b);
  }
  return b;
}

function params(call: RouteCall): URLSearchParams {
  const { request } = call;
  return new URLSearchParams(request.method === "POST" ? request.body : request.query);
}

function orderJson(o: Order, now: number): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: fromUnits(o.price),
    origQty: fromUnits(o.origQty),
    executedQty: fromUnits(o.executedQty),
    cummulativeQuoteQty: fromUnits(o.quoteQty),
    status: o.status,
    timeInForce: o.type === "LIMIT" ? "GTC" : "GTC",
    type: o.type,
    side: o.side,
    stopPrice: "0.00000000",
    icebergQty: "0.00000000",
    time: o.time,
    updateTime: o.updateTime,
    isWorking: true,
    workingTime: o.time,
    origQuoteOrderQty: "0.00000000",
    selfTradePreventionMode: "EXPIRE_MAKER",
    transactTime: now,
  };
}

function findOrder(book: Book, p: URLSearchParams): Order | undefined {
  const id = p.get("orderId");
  const clientId = p.get("origClientOrderId");
  for (const o of book.orders.values()) {
    if (o.symbol !== p.get("symbol")) continue;
    if (
      (id !== null && String(o.orderId) === id) ||
      (clientId !== null && o.clientOrderId === clientId)
    ) {
      return o;
    }
  }
  return undefined;
}

function multipleOf(value: bigint, step: bigint): boolean {
  return step > 0n && value % step === 0n;
}

function placeOrder(call: RouteCall, market: SpotMarket): SimResponse {
  const key = call.key as RegisteredKey;
  const p = params(call);
  const s: SpotSymbol | undefined = market.symbol(p.get("symbol"));
  if (s === undefined) return badSymbol;
  const side = p.get("side");
  const type = p.get("type");
  if ((side !== "BUY" && side !== "SELL") || (type !== "LIMIT" && type !== "MARKET")) {
    return binanceError(400, -1116, "Invalid orderType.");
  }
  const qty = toUnits(p.get("quantity"));
  if (qty === undefined || qty <= 0n || !multipleOf(qty, s.stepSize))
    return filterFailure("LOT_SIZE");
  const last = market.lastPrice(s.symbol);
  const price = type === "LIMIT" ? toUnits(p.get("price")) : last;
  if (price === undefined || price <= 0n || (type === "LIMIT" && !multipleOf(price, s.tickSize))) {
    return filterFailure("PRICE_FILTER");
  }
  const notional = multiply(price, qty);
  if (notional < s.minNotional) return filterFailure("NOTIONAL");
  const book = bookOf(key);
  const base = balance(book, s.base);
  const quote = balance(book, s.quote);
  const spend = side === "BUY" ? quote : base;
  const cost = side === "BUY" ? notional : qty;
  if (spend.free < cost) return insufficient;

  const order: Order = {
    symbol: s.symbol,
    orderId: book.nextId++,
    clientOrderId: p.get("newClientOrderId") ?? `sim${call.now}${book.nextId}`,
    price: type === "LIMIT" ? price : 0n,
    origQty: qty,
    executedQty: 0n,
    quoteQty: 0n,
    status: "NEW",
    type,
    side,
    time: call.now,
    updateTime: call.now,
  };
  book.orders.set(order.orderId, order);
  let fills: Record<string, unknown>[] = [];
  if (type === "MARKET") {
    spend.free -= cost;
    (side === "BUY" ? base : quote).free += side === "BUY" ? qty : notional;
    order.executedQty = qty;
    order.quoteQty = notional;
    order.status = "FILLED";
    const trade = {
      symbol: s.symbol,
      id: book.trades.length + 1,
      orderId: order.orderId,
      orderListId: -1,
      price: fromUnits(last),
      qty: fromUnits(qty),
      quoteQty: fromUnits(notional),
      commission: "0.00000000",
      commissionAsset: side === "BUY" ? s.base : s.quote,
      time: call.now,
      isBuyer: side === "BUY",
      isMaker: false,
      isBestMatch: true,
    };
    book.trades.push(trade);
    fills = [
      {
        price: trade.price,
        qty: trade.qty,
        commission: "0.00000000",
        commissionAsset: trade.commissionAsset,
        tradeId: trade.id,
      },
    ];
  } else {
    spend.free -= cost;
    spend.locked += cost;
  }
  if (p.get("newOrderRespType") === "ACK") {
    return reply(200, {
      symbol: s.symbol,
      orderId: order.orderId,
      orderListId: -1,
      clientOrderId: order.clientOrderId,
      transactTime: call.now,
    });
  }
  return reply(200, { ...orderJson(order, call.now), fills });
}

function cancel(book: Book, market: SpotMarket, order: Order, now: number): void {
  const s = market.symbol(order.symbol) as SpotSymbol;
  const locked = order.side === "BUY" ? balance(book, s.quote) : balance(book, s.base);
  const amount = order.side === "BUY" ? multiply(order.price, order.origQty) : order.origQty;
  locked.locked -= amount;
  locked.free += amount;
  order.status = "CANCELED";
  order.updateTime = now;
}

function requireTrade(
  handler: (call: RouteCall, market: SpotMarket) => SimResponse,
  market: SpotMarket,
): Route {
  return {
    auth: "signed",
    handle: (call) => (call.key?.permissions.trade === true ? handler(call, market) : noPermission),
  };
}

function requireRead(
  handler: (call: RouteCall, market: SpotMarket) => SimResponse,
  market: SpotMarket,
): Route {
  return {
    auth: "signed",
    handle: (call) => (call.key?.permissions.read === true ? handler(call, market) : noPermission),
  };
}

/** The Binance spot market-data and order routes, bound to one simulator's market. */
export function binanceOrderRoutes(market: SpotMarket): Record<string, Route> {
  return {
    "GET /api/v3/exchangeInfo": {
      auth: "public",
      handle: ({ now }) => reply(200, exchangeInfo(now)),
    },
    "GET /api/v3/ping": { auth: "public", handle: () => reply(200, {}) },
    "GET /api/v3/time": { auth: "public", handle: ({ now }) => reply(200, { serverTime: now }) },
    "GET /api/v3/ticker/24hr": {
      auth: "public",
      handle: ({ request, now }) => {
        const s = market.symbol(new URLSearchParams(request.query).get("symbol"));
        return s === undefined
          ? badSymbol
          : reply(200, ticker24hr(s, market.lastPrice(s.symbol), now));
      },
    },
    "GET /api/v3/ticker/price": {
      auth: "public",
      handle: ({ request }) => {
        const s = market.symbol(new URLSearchParams(request.query).get("symbol"));
        return s === undefined
          ? badSymbol
          : reply(200, { symbol: s.symbol, price: fromUnits(market.lastPrice(s.symbol)) });
      },
    },
    "POST /api/v3/order": requireTrade(placeOrder, market),
    "DELETE /api/v3/order": requireTrade((call) => {
      const book = bookOf(call.key as RegisteredKey);
      const order = findOrder(book, params(call));
      if (order === undefined || order.status !== "NEW") return unknownOrder;
      cancel(book, market, order, call.now);
      return reply(200, { origClientOrderId: order.clientOrderId, ...orderJson(order, call.now) });
    }, market),
    "DELETE /api/v3/openOrders": requireTrade((call) => {
      const book = bookOf(call.key as RegisteredKey);
      const symbol = params(call).get("symbol");
      const open = [...book.orders.values()].filter(
        (o) => o.symbol === symbol && o.status === "NEW",
      );
      if (open.length === 0) return unknownOrder;
      for (const o of open) cancel(book, market, o, call.now);
      return reply(
        200,
        open.map((o) => ({ origClientOrderId: o.clientOrderId, ...orderJson(o, call.now) })),
      );
    }, market),
    "GET /api/v3/order": requireRead((call) => {
      const order = findOrder(bookOf(call.key as RegisteredKey), params(call));
      return order === undefined ? noSuchOrder : reply(200, orderJson(order, call.now));
    }, market),
    "GET /api/v3/openOrders": requireRead((call) => {
      const symbol = params(call).get("symbol");
      const open = [...bookOf(call.key as RegisteredKey).orders.values()].filter(
        (o) => o.status === "NEW" && (symbol === null || o.symbol === symbol),
      );
      return reply(
        200,
        open.map((o) => orderJson(o, call.now)),
      );
    }, market),
    "GET /api/v3/allOrders": requireRead((call) => {
      const symbol = params(call).get("symbol");
      const all = [...bookOf(call.key as RegisteredKey).orders.values()].filter(
        (o) => o.symbol === symbol,
      );
      return reply(
        200,
        all.map((o) => orderJson(o, call.now)),
      );
    }, market),
    "GET /api/v3/myTrades": requireRead((call) => {
      const symbol = params(call).get("symbol");
      return reply(
        200,
        bookOf(call.key as RegisteredKey).trades.filter((t) => t.symbol === symbol),
      );
    }, market),
    "GET /api/v3/account": requireRead((call) => {
      const key = call.key as RegisteredKey;
      const balances = [...bookOf(key).balances.entries()].map(([asset, b]) => ({
        asset,
        free: fromUnits(b.free),
        locked: fromUnits(b.locked),
      }));
      return reply(200, {
        makerCommission: 10,
        takerCommission: 10,
        buyerCommission: 0,
        sellerCommission: 0,
        commissionRates: {
          maker: "0.00100000",
          taker: "0.00100000",
          buyer: "0.00000000",
          seller: "0.00000000",
        },
        canTrade: key.permissions.trade,
        canWithdraw: key.permissions.withdraw,
        canDeposit: true,
        brokered: false,
        requireSelfTradePrevention: false,
        preventSor: false,
        updateTime: call.now,
        accountType: "SPOT",
        balances,
        permissions: ["SPOT"],
        uid: Number(key.uid),
      });
    }, market),
  };
}
