/**
 * `keywarden/permissions/testing`: a local exchange simulator for tests and demos.
 *
 * It plays 20 exchanges ({@link SIMULATED_EXCHANGES}) on 127.0.0.1, verifies the real signatures
 * ccxt computes with the test secret, answers each exchange's API-key permission endpoint with its
 * documented response shape for a configurable permission set, serves Binance spot order
 * endpoints, refuses and counts withdraw endpoints, and injects faults. It does not import ccxt and never writes to the console.
 *
 * @example
 * ```ts
 * import { startExchangeSimulator } from "keywarden/permissions/testing";
 *
 * const sim = await startExchangeSimulator();
 * sim.setKey("okx", { apiKey: "k", secret: "s", passphrase: "p", permissions: { trade: true } });
 * // new ccxt.okx({ apiKey: "k", secret: "s", password: "p", ...sim.ccxtOptions("okx") })
 * await sim.close();
 * ```
 *
 * @packageDocumentation
 */
export {
  type ExchangeSimulator,
  type ExchangeSimulatorOptions,
  startExchangeSimulator,
} from "./simulator.js";
export {
  type CcxtSimulatorOptions,
  type Fault,
  type FaultKind,
  type RecordedRequest,
  type RequestFilter,
  type RequestLog,
  type RequestOutcome,
  SIMULATED_EXCHANGES,
  type SimulatedExchangeId,
  type SimulatedKeyInput,
  type SimulatedPermissions,
} from "./types.js";
