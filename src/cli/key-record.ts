/**
 * `keywarden key check --record FILE`: the raw permission answers, redacted, in the fixture format
 * of test/permissions/fixtures (docs/permissions.md, "Recording a response"). What is removed:
 * every credential value, every string or number under an identifying field name (ids, uids,
 * keys, names, notes, emails, IBANs, addresses), long token-like strings, and IP addresses
 * (replaced by documentation addresses 192.0.2.x, so the IP verdict survives). Permission values
 * stay: they are the point of the file. Where the key names a public account address the parser
 * compares the answer against (Hyperliquid: the account an agent trades for), that address is
 * replaced by {@link RECORDED_ACCOUNT} in the answers and in the fixture's `key` alike, so the
 * file replays to the same reading without naming the account.
 */
import type { RecordedAnswer } from "../permissions/ccxt.js";
import type { DetectionResult } from "../permissions/types.js";

/** Field names whose values identify the account, the key or the person. */
const IDENTIFYING =
  /(^|_)(id|uid|userid|user_id|subuid|mainuid|parentid|inviterid|affiliateid|apikey|api_key|accesskey|access_key|key|secret|client_secret|client_id|passphrase|password|token|access_token|refresh_token|sign|signature|name|note|remark|label|email|iban|address|account|accountid|portfolio_uuid|walletaddress|user)$/i;
const TIME_FIELD = /(time|at|ts|date|day|days)$/i;
const TOKENISH = /^[A-Za-z0-9+/=_.-]{20,}$/;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b/g;
const REDACTED = "REDACTED";

/** The placeholder account address a recording uses in place of the key's own (Hyperliquid). */
export const RECORDED_ACCOUNT = "0x0000000000000000000000000000000000000001";

/**
 * Redacts one JSON value; `values` are the exact credential strings to remove anywhere, `account`
 * a public account address replaced (case-insensitively) by {@link RECORDED_ACCOUNT} wherever it
 * is a whole string.
 */
export function redactValue(
  value: unknown,
  values: readonly string[],
  field = "",
  account?: string,
): unknown {
  if (typeof value === "string") {
    if (account !== undefined && value.toLowerCase() === account.toLowerCase()) {
      return RECORDED_ACCOUNT;
    }
    if (IDENTIFYING.test(field.replace(/[-\s]/g, ""))) return REDACTED;
    let out = value;
    for (const v of values) if (v.length >= 4) out = out.split(v).join(REDACTED);
    if (TOKENISH.test(out) && !/^\d+$/.test(out)) return REDACTED;
    let n = 0;
    out = out.replace(IPV4, (ip) => (ip.startsWith("0.0.0.0") ? ip : `192.0.2.${++n}`));
    return out;
  }
  if (typeof value === "number") {
    if (IDENTIFYING.test(field.replace(/[-\s]/g, ""))) return 1000001;
    // Long numbers outside time fields are ids (HTX answers its uid as `data`).
    if (Number.isInteger(value) && Math.abs(value) >= 1_000_000 && !TIME_FIELD.test(field)) {
      return 1000001;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, values, field, account));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, values, k, account);
    return out;
  }
  return value;
}

/**
 * The recording file's content (fixture format), redacted. `account` is the key's public account
 * address when the parser compares answers against it (see {@link redactValue}).
 */
export function recordingFile(
  exchange: string,
  source: string,
  answers: readonly RecordedAnswer[],
  result: DetectionResult,
  credentialValues: readonly string[],
  account?: string,
): string {
  const expect = result.ok
    ? {
        ok: true,
        read: result.permissions.read,
        trade: result.permissions.trade,
        withdraw: result.permissions.withdraw,
        transfer: result.permissions.transfer,
        ipRestricted: result.permissions.ipRestricted,
      }
    : { ok: false, findings: [...new Set(result.findings.map((f) => f.code))] };
  const file = {
    description: `Recorded ${exchange} permission answer (keywarden key check --record): describe the key's settings here`,
    source,
    section: `recorded response, ${new Date().toISOString().slice(0, 10)}`,
    derivedFrom:
      "recorded from a real key; ids, names, keys and IP addresses redacted by keywarden",
    answers: answers.map((a) => ({
      status: a.status,
      headers: a.contentType ? { "content-type": a.contentType } : {},
      body: redactValue(a.body, credentialValues, "", account),
    })),
    key: { apiKey: account === undefined ? REDACTED : RECORDED_ACCOUNT },
    expect,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
