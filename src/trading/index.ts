/**
 * `keywarden/trading`: what bot authors call instead of raw ccxt — an allowlist of order calls,
 * credentials opened per call, nothing that moves funds off the account, a persistent kill switch,
 * risk limits, and every action in the audit log.
 *
 * @packageDocumentation
 */
export { type CcxtFactoryOptions, ccxtExchangeFactory } from "./ccxt.js";
export {
  type CancelOutcome,
  CLIENT_ORDER_ID,
  type CreateOrderOptions,
  createTradingClient,
  type KillSwitchReport,
  type OrderRequest,
  TradingClient,
  type TradingClientOptions,
  type TradingHandle,
} from "./client.js";
export {
  type EmergencyOptions,
  type EmergencyReport,
  type EmergencyVault,
  emergencyRevokeAll,
  type RotateKeysNotice,
} from "./emergency.js";
export type { ExchangeFactory, ExchangeLike, OrderLike } from "./exchange-like.js";
export {
  ALLOWED_METHODS,
  type AllowedMethod,
  FUNDS_MOVING_METHODS,
  isAllowedMethod,
  MARKET_DATA_METHODS,
  ORDER_METHODS,
  PRIVATE_READ_METHODS,
} from "./methods.js";
export type { TradingAudit, TradingCredentialMeta, TradingVault } from "./ports.js";
export { compareOrders, type LoggedOrder, type ReconciliationReport } from "./reconcile.js";
export {
  assertRisk,
  checkRisk,
  type OrderForRisk,
  type RiskLimits,
  type RiskViolation,
  riskLimitsSchema,
} from "./risk.js";
export { type ExchangeFailure, scrubExchangeError } from "./scrub.js";
export {
  createFileTradingState,
  createMemoryTradingState,
  KILL_SWITCH_OFF,
  type KillSwitchState,
  type TradingStateStore,
} from "./state.js";
