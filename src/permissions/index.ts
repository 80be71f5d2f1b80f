/**
 * `keywarden/permissions`: the withdraw-permission detector, its acceptance policy, the
 * onboarding gate and the re-check for stored keys. Pure: it never loads ccxt. The ccxt binding is
 * `keywarden/permissions/ccxt`; the exchange simulator is `keywarden/permissions/testing`.
 *
 * @packageDocumentation
 */

export { scrubText } from "../scrub.js";
export {
  type CallFailure,
  type CallOutcome,
  type DetectFn,
  type DetectRequest,
  type ExchangeCaller,
  type ExchangeCredentials,
  fromVaultFields,
  runDetection,
} from "./detect.js";
export { EXCHANGE_SPECS } from "./exchanges/index.js";
export type {
  CallParams,
  CallStep,
  ErrorMatch,
  ExchangeSpec,
  KeyContext,
  SpecStatus,
} from "./exchanges/spec.js";
export { finding, primaryFinding, rejectionError } from "./findings.js";
export {
  type OnboardDeps,
  type OnboardRequest,
  type OnboardResult,
  onboardKey,
  type PermissionsAuditSink,
  wipeCredentials,
} from "./onboard.js";
export {
  assertPermissionsAccepted,
  decide,
  evaluatePermissions,
  type PermissionPolicy,
  type ResolvedPolicy,
  resolvePolicy,
} from "./policy.js";
export {
  type RecheckDeps,
  type RecheckOutcome,
  type RecheckRequest,
  type RecheckScheduler,
  type RecheckSchedulerOptions,
  recheckKey,
  scheduleRechecks,
} from "./recheck.js";
export {
  type Capability,
  type DetectionResult,
  type EvidenceValue,
  type ExchangeId,
  FINDING_CODES,
  type Finding,
  type FindingCode,
  type KeyPermissions,
  type PermissionVerdict,
  SUPPORTED_EXCHANGES,
} from "./types.js";
