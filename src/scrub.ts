/**
 * Scrubbing of exchange error text before it leaves keywarden (the permissions binding and the
 * trading wrapper): ccxt's base-class errors embed the full request URL (with the signature, and
 * for HTX the AccessKeyId), and exchange error bodies are echoed into messages.
 *
 * @internal
 */

const RULES: readonly [RegExp, string][] = [
  // Whole URLs: their query strings carry signatures and key ids.
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, "<url>"],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, "Bearer <redacted>"],
  // JWTs anywhere (Coinbase's ES256 bearer).
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "<jwt>"],
  // key=value / "key":"value" pairs whose name says secret, signature, passphrase or key id.
  [
    /(["']?)\b([A-Za-z_-]*(?:signature|secret|passphrase|password|sign|sig|token|accesskeyid|api[_-]?key|apikey)[A-Za-z_-]*)\1(\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s&,;}\]]+)/gi,
    "$1$2$1$3<redacted>",
  ],
  // Long hex or base64 runs: signatures, digests and encoded keys that no rule above named.
  [/\b[A-Fa-f0-9]{32,}\b/g, "<redacted>"],
  [/[A-Za-z0-9+/_-]{40,}={0,2}/g, "<redacted>"],
];

/**
 * Removes URLs, bearer tokens, JWTs, `signature=`/`secret`/`passphrase`/`apiKey`-style values and
 * every exact `credential` string from `text`, and bounds its length.
 *
 * @example
 * ```ts
 * scrubText("binance GET https://api.binance.com/x?signature=abc 500", ["my-secret"]);
 * // "binance GET <url> 500"
 * ```
 * @throws never.
 */
export function scrubText(
  text: string,
  credentials: readonly string[] = [],
  maxLength = 300,
): string {
  let out = String(text);
  // Exact credential values first (longest first, so a value containing another goes whole).
  // Each value also in the encodings it travels in: URL-encoded (query strings) and base64 (headers).
  const forms = credentials
    .filter((c) => c.length >= 4)
    .flatMap((c) => [c, encodeURIComponent(c), Buffer.from(c).toString("base64")]);
  for (const value of [...new Set(forms)].sort((a, b) => b.length - a.length)) {
    out = out.split(value).join("<redacted>");
  }
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
