/**
 * Every metric and span keywarden emits, with its attributes: the single source that
 * docs/observability.md lists and the instrument registry creates from (a test holds the three
 * together). Attributes never carry a secret, a user id, a credential id or an order id.
 *
 * @packageDocumentation
 */

/** One metric. */
export interface MetricSpec {
  readonly name: string;
  /** `gauge`: an observable gauge, read by the SDK at each collection (nothing on the hot path). */
  readonly kind: "counter" | "histogram" | "gauge";
  readonly unit: string;
  readonly description: string;
  /** Every attribute key it may carry. */
  readonly attributes: readonly string[];
}

/** The metrics, by the key the hooks use. */
export const METRICS = {
  kmsCalls: {
    name: "keywarden.kms.calls",
    kind: "counter",
    unit: "{call}",
    description: "KMS calls (generate data key, decrypt, re-encrypt), by provider and outcome",
    attributes: ["kms.provider", "kms.operation", "outcome", "error.code"],
  },
  kmsDuration: {
    name: "keywarden.kms.duration",
    kind: "histogram",
    unit: "s",
    description: "Latency of KMS calls",
    attributes: ["kms.provider", "kms.operation", "outcome"],
  },
  credentialOpens: {
    name: "keywarden.vault.credential.opens",
    kind: "counter",
    unit: "{open}",
    description:
      "Credential opens (vault.withCredentials), by who opened (session or grant) and outcome",
    attributes: ["identity.kind", "outcome", "error.code"],
  },
  auditAppends: {
    name: "keywarden.audit.appends",
    kind: "counter",
    unit: "{append}",
    description: "Store appends of the audit log (one per committed batch), by outcome",
    attributes: ["outcome", "error.code"],
  },
  auditAppendDuration: {
    name: "keywarden.audit.append.duration",
    kind: "histogram",
    unit: "s",
    description: "Latency of one store append (a batch of entries, group-committed)",
    attributes: ["outcome"],
  },
  auditAppendBatch: {
    name: "keywarden.audit.append.batch_size",
    kind: "histogram",
    unit: "{entry}",
    description: "Entries per store append (group commit batch size)",
    attributes: ["outcome"],
  },
  auditQueueDepth: {
    name: "keywarden.audit.queue.depth",
    kind: "gauge",
    unit: "{entry}",
    description:
      "Entries in the PostgreSQL sequencer's durable queue (all chains of the database): pending (not yet sequenced) or failed (refused by the sequencer, kept for its writer)",
    attributes: ["state"],
  },
  auditQueueAge: {
    name: "keywarden.audit.queue.age",
    kind: "gauge",
    unit: "s",
    description:
      "Age of the oldest pending entry in the PostgreSQL sequencer's durable queue (0 when empty)",
    attributes: [],
  },
  auditWaiting: {
    name: "keywarden.audit.queue.waiting",
    kind: "gauge",
    unit: "{entry}",
    description:
      "Entries this process waits on: queued behind the store append in progress (group_commit), or enqueued to the sequencer and not yet sequenced (sequencer)",
    attributes: ["queue"],
  },
  detectorVerdicts: {
    name: "keywarden.permissions.verdicts",
    kind: "counter",
    unit: "{verdict}",
    description:
      "Permission verdicts (detection judged by the policy) by exchange; a refused verdict counts once per finding code",
    attributes: ["exchange", "verdict", "finding.code"],
  },
  orders: {
    name: "keywarden.trading.orders",
    kind: "counter",
    unit: "{order}",
    description: "Orders through the trading client: placed, refused before sending, or failed",
    attributes: ["exchange", "outcome", "reason"],
  },
  killSwitchTransitions: {
    name: "keywarden.trading.kill_switch.transitions",
    kind: "counter",
    unit: "{transition}",
    description: "Kill-switch state changes (fired: active, reset: inactive), by who changed it",
    attributes: ["state", "source"],
  },
  killSwitchActive: {
    name: "keywarden.trading.kill_switch.active",
    kind: "gauge",
    unit: "{user}",
    description:
      "Users whose kill switch is active, in the kill-switch state stores of this process's trading clients",
    attributes: [],
  },
} as const satisfies Record<string, MetricSpec>;

/** One span. */
export interface SpanSpec {
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

/** The spans. */
export const SPANS = {
  orderCreate: {
    name: "keywarden.order.create",
    description:
      "One createOrder through the trading client: kill-switch check, risk limits, intent, send",
    attributes: [
      "keywarden.exchange",
      "keywarden.order.side",
      "keywarden.order.type",
      "keywarden.order.symbol",
      "keywarden.outcome",
      "keywarden.error.code",
    ],
  },
  credentialOpen: {
    name: "keywarden.vault.open",
    description: "Opening a credential set in the vault (ends when the host's callback returns)",
    attributes: ["keywarden.identity.kind", "keywarden.outcome", "keywarden.error.code"],
  },
  kmsCall: {
    name: "keywarden.kms.call",
    description: "One KMS call",
    attributes: ["kms.provider", "kms.operation", "keywarden.outcome", "keywarden.error.code"],
  },
} as const satisfies Record<string, SpanSpec>;
