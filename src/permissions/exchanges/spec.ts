/**
 * The contract every per-exchange parser file implements. A spec is pure data plus pure
 * functions: which read-only implicit ccxt methods to call, how to parse their answers, and how to
 * map the exchange's raw error codes to findings. No I/O happens here.
 *
 * @packageDocumentation
 */
import type { DetectionResult, ExchangeId, FindingCode } from "../types.js";
import type { PermissionModel } from "./model.js";

/** What a plan or parser may know about the key (never the secret). */
export interface KeyContext {
  /** The public key id: some endpoints take it as a parameter or list several keys. */
  readonly apiKey: string;
  /** The account uid, when the caller supplies it (HTX: saves the uid lookup). */
  readonly uid?: string;
  /**
   * The address the held secret signs as (Hyperliquid: the EVM address of the private key), derived
   * by the binding from the secret; public, never the secret itself.
   */
  readonly signer?: string;
}

/** Parameters of one implicit-method call. */
export type CallParams = Readonly<Record<string, string | number>>;

/** One authenticated call. */
export interface CallStep {
  /** The ccxt implicit method name; must be in the spec's {@link ExchangeSpec.readOnlyMethods}. */
  readonly method: string;
  /**
   * The call's parameters, computed from earlier answers; a finding-returning result aborts the
   * plan (e.g. HTX's uid lookup failed).
   */
  readonly params: (earlier: readonly unknown[]) => CallParams | DetectionResult;
}

/** A raw exchange error code recognised in an error body. */
export interface ErrorMatch {
  readonly code: FindingCode;
  /** The exchange's own error code or label, for the finding's details. */
  readonly exchangeCode: string;
}

import type { SpecStatus } from "./model.js";

export type { SpecStatus };

/** One exchange's parser and call plan. */
export interface ExchangeSpec {
  readonly id: ExchangeId;
  readonly status: SpecStatus;
  /** Where the documented shape comes from. */
  readonly source: string;
  /** The exchange's cited permission model (./model.ts); the parser's token tables come from it. */
  readonly model: PermissionModel;
  /**
   * Every method this spec may call. Each is a documented read: it never creates, changes or
   * cancels anything. The binding refuses any method not listed here.
   */
  readonly readOnlyMethods: readonly string[];
  /**
   * How the binding derives {@link KeyContext.signer} from the held secret before planning:
   * `evm-address-of-secret` = the EVM address of the secret as a secp256k1 private key (Hyperliquid,
   * whose ccxt class then takes `walletAddress` = the API key field and `privateKey` = the secret).
   */
  readonly derive?: "evm-address-of-secret";
  /** The calls to make, in order; empty when there is nothing safe to call. */
  plan(key: KeyContext): readonly CallStep[];
  /** Turns the answers (one per step, in order) into permissions or findings. */
  parse(answers: readonly unknown[], key: KeyContext): DetectionResult;
  /** Recognises the exchange's raw error codes in an error body (parsed JSON or text). */
  classifyError(body: unknown): ErrorMatch | undefined;
}
