/**
 * `keywarden key check`: reads an API key's permissions from the exchange and prints the verdict
 * the onboarding gate would reach. Credentials come from environment variables (deleted after
 * reading) or stdin — never from argv — and are never echoed.
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseJson } from "../canonical.js";
import { KeywardenError } from "../errors.js";
import type { RecordedAnswer } from "../permissions/ccxt.js";
import type { ExchangeCredentials } from "../permissions/detect.js";
import { decide, type PermissionPolicy } from "../permissions/policy.js";
import { type Capability, type ExchangeId, SUPPORTED_EXCHANGES } from "../permissions/types.js";
import { Secret } from "../secret.js";
import { type CliIo, println } from "./io.js";
import { type Command, type CommandGroup, EXIT } from "./run.js";

/** Environment variables the command reads (and deletes). */
export const CREDENTIAL_ENV = {
  apiKey: "KEYWARDEN_API_KEY",
  secret: "KEYWARDEN_API_SECRET",
  password: "KEYWARDEN_API_PASSPHRASE",
  uid: "KEYWARDEN_API_UID",
} as const;

const USAGE = `Usage: keywarden key check --exchange ID [options]

Reads the key's permissions from the exchange (one read-only call; two for htx) and prints them
with the verdict the onboarding gate would reach. Exits 0 when the key would be accepted, 1 when
it would be rejected, 2 on usage errors.

Credentials (never on the command line):
  environment  ${CREDENTIAL_ENV.apiKey}, ${CREDENTIAL_ENV.secret}, ${CREDENTIAL_ENV.password} (OKX,
               KuCoin, Bitget), ${CREDENTIAL_ENV.uid} (optional); deleted after reading.
               Hyperliquid: the account address (0x...) as the api key and the API (agent)
               wallet's private key (0x + 64 hex) as the secret
  --stdin      read them from stdin instead: JSON {"apiKey","secret","password","uid"} or lines
               apiKey, secret[, passphrase]

Options:
  --exchange ID         one of: ${SUPPORTED_EXCHANGES.join(", ")}
  --json                print {"exchange","verdict":"accepted"|"rejected","permissions"|null,
                        "findings":[{"code","exchange","message"[,"details"]}]}
  --accept-read-only    accept keys that cannot trade
  --no-require-ip       do not require an IP allow-list
  --allow-ip ADDRESS    a host outbound address the allow-list may contain (repeatable)
  --allow-transfer      do not reject transfer permissions
  --probe               allow the exchange's opt-in read-only probe (mexc, cryptocom)
  --record FILE         also write the raw permission answer to FILE (created, never overwritten),
                        redacted (credentials, ids, names, IP addresses) and in the fixture format,
                        safe to paste into an issue (docs/permissions.md, "Recording a response")
  --timeout MS          per-request timeout (default 10000)
  --url URL             send requests to a local server instead (http, loopback only): ccxt still
                        signs the real URL and https://HOST/PATH is sent to URL/HOST/PATH
                        (for the simulator: its per-exchange root, sim.url(exchange))`;

const OPTIONS = {
  exchange: { type: "string" },
  json: { type: "boolean" },
  stdin: { type: "boolean" },
  "accept-read-only": { type: "boolean" },
  "no-require-ip": { type: "boolean" },
  "allow-ip": { type: "string", multiple: true },
  "allow-transfer": { type: "boolean" },
  probe: { type: "boolean" },
  timeout: { type: "string" },
  url: { type: "string" },
  record: { type: "string" },
} as const;

const MAX_STDIN = 64 * 1024;

const StdinJson = z.strictObject({
  apiKey: z.string().min(1),
  secret: z.string().min(1),
  password: z.string().min(1).optional(),
  passphrase: z.string().min(1).optional(),
  uid: z.string().min(1).optional(),
});

interface PlainCredentials {
  apiKey: string;
  secret: string;
  password?: string;
  uid?: string;
}

function usageError(message: string): never {
  throw new KeywardenError("ERR_INVALID_ARGUMENT", message);
}

/** Takes every credential variable out of `env` (all are deleted, even unused ones). */
function takeFromEnv(env: NodeJS.ProcessEnv): Partial<PlainCredentials> {
  const out: Partial<PlainCredentials> = {};
  for (const [field, name] of Object.entries(CREDENTIAL_ENV) as [
    keyof PlainCredentials,
    string,
  ][]) {
    const value = env[name];
    delete env[name];
    if (value !== undefined && value !== "") out[field] = value;
  }
  return out;
}

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_STDIN) usageError("stdin is too large for a credential set");
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  for (const c of chunks) c.fill(0);
  return text;
}

function parseStdin(text: string): PlainCredentials {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = parseJson(trimmed);
    } catch {
      usageError("stdin is not valid JSON (its content is not shown)");
    }
    const parsed = StdinJson.safeParse(json);
    if (!parsed.success) usageError("stdin JSON needs string fields apiKey and secret");
    const { apiKey, secret, uid } = parsed.data;
    const password = parsed.data.password ?? parsed.data.passphrase;
    return { apiKey, secret, ...(password ? { password } : {}), ...(uid ? { uid } : {}) };
  }
  const [apiKey, secret, password] = trimmed.split(/\r?\n/).map((l) => l.trim());
  if (!apiKey || !secret) usageError("stdin needs the api key and the secret on separate lines");
  return { apiKey, secret, ...(password ? { password } : {}) };
}

/**
 * Refuses argv that could carry a credential: positionals and unknown options are rejected
 * without echoing them (parseArgs would quote the offending argument in its message).
 */
function parseArgv(argv: string[]) {
  const known = new Set(Object.keys(OPTIONS).map((o) => `--${o}`));
  for (const arg of argv) {
    const name = arg.startsWith("--") ? (arg.split("=")[0] ?? arg) : undefined;
    /* Precondition: an option that is not one of the command's own is refused without being echoed. */
    if (name !== undefined && !known.has(name)) {
      usageError(
        /key|secret|pass|token|sign|cred/i.test(name)
          ? "credentials are never accepted as arguments: use the environment or --stdin"
          : "unknown option (arguments are not echoed; see --help)",
      );
    }
  }
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false })
      .values;
  } catch {
    return usageError("invalid arguments (they are not echoed; see --help)");
  }
}

const yesNo = (c: Capability) => (c === true ? "yes" : c === false ? "no" : "unknown");

/** Replaces every exact credential value in `text`: a last guard before anything is printed. */
function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values.filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(v).join("[REDACTED]");
  }
  return out;
}

async function check(argv: string[], io: CliIo): Promise<number> {
  const fromEnv = takeFromEnv(io.env);
  const args = parseArgv(argv);
  const exchange = args.exchange as ExchangeId | undefined;
  if (exchange === undefined || !SUPPORTED_EXCHANGES.includes(exchange)) {
    usageError("--exchange must name a supported exchange (see --help)");
  }
  const timeoutMs = args.timeout === undefined ? 10_000 : Number(args.timeout);
  const plain: Partial<PlainCredentials> = args.stdin ? parseStdin(await readStdin(io)) : fromEnv;
  if (!plain.apiKey || !plain.secret) {
    usageError(
      `set ${CREDENTIAL_ENV.apiKey} and ${CREDENTIAL_ENV.secret}, or pass them on --stdin`,
    );
  }
  const policy: PermissionPolicy = {
    requireIpRestriction: !args["no-require-ip"],
    acceptReadOnly: args["accept-read-only"] === true,
    rejectTransfer: !args["allow-transfer"],
    ...(args["allow-ip"] ? { allowedOutboundIps: args["allow-ip"] } : {}),
    ...(args.probe ? { probeExchanges: [exchange] } : {}),
  };
  const credentials: ExchangeCredentials = {
    apiKey: plain.apiKey,
    secret: Secret.fromString(plain.secret),
    ...(plain.password ? { password: Secret.fromString(plain.password) } : {}),
    ...(plain.uid ? { uid: plain.uid } : {}),
  };
  const { EXCHANGE_SPECS } = await import("../permissions/exchanges/index.js");
  // Hyperliquid: the api key is the account address (public, but it names the account: a
  // recording replaces it with a placeholder) and the secret an EVM private key, which is also
  // guarded without its 0x prefix, and case-insensitively below.
  const evm = EXCHANGE_SPECS[exchange].derive === "evm-address-of-secret";
  const shown = [
    plain.apiKey,
    plain.secret,
    plain.password ?? "",
    ...(evm && /^0x/i.test(plain.secret) ? [plain.secret.slice(2)] : []),
  ];
  try {
    const { createCcxtDetector } = await import("../permissions/ccxt.js");
    const recorded: RecordedAnswer[] = [];
    const detect = createCcxtDetector({
      timeoutMs,
      ...(args.url ? { baseUrl: args.url } : {}),
      ...(args.record ? { onAnswer: (a: RecordedAnswer) => recorded.push(a) } : {}),
    });
    const result = await detect({ exchange, credentials, probe: args.probe === true });
    if (args.record) {
      const { recordingFile } = await import("./key-record.js");
      const body = recordingFile(
        exchange,
        EXCHANGE_SPECS[exchange].source,
        recorded,
        result,
        shown,
        evm ? plain.apiKey : undefined,
      );
      const lower = body.toLowerCase();
      /* Precondition: the recording holds no credential value (checked after redaction). */
      if (
        shown.some((v) => v.length >= 4 && (body.includes(v) || lower.includes(v.toLowerCase())))
      ) {
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          "recording refused: a credential survived redaction",
        );
      }
      try {
        await writeFile(args.record, body, { flag: "wx", mode: 0o600 });
      } catch {
        usageError("--record: cannot create the file (it must not exist yet)");
      }
    }
    const verdict = decide(result, policy);
    const permissions = verdict.permissions ?? (result.ok ? result.permissions : undefined);
    const findings = verdict.ok ? [] : verdict.findings;
    let text: string;
    if (args.json) {
      text = JSON.stringify(
        {
          exchange,
          verdict: verdict.ok ? "accepted" : "rejected",
          permissions: permissions ?? null,
          findings,
        },
        null,
        2,
      );
    } else {
      const lines = [`exchange:   ${exchange}`];
      if (permissions) {
        lines.push(
          `read:       ${yesNo(permissions.read)}`,
          `trade:      ${yesNo(permissions.trade)}`,
          `withdraw:   ${yesNo(permissions.withdraw)}`,
          `transfer:   ${yesNo(permissions.transfer)}`,
          `ip-bound:   ${yesNo(permissions.ipRestricted)}${permissions.ipAllowList ? ` (${permissions.ipAllowList.join(", ")})` : ""}`,
        );
      }
      lines.push(`verdict:    ${verdict.ok ? "ACCEPTED" : "REJECTED"}`);
      for (const f of findings) lines.push(`  - ${f.code}: ${f.message}`);
      text = lines.join("\n");
    }
    /* Precondition: nothing the command prints contains a credential value. */
    println(io.stdout, redact(text, shown));
    return verdict.ok ? EXIT.ok : EXIT.failed;
  } finally {
    for (const v of Object.values(credentials)) if (Secret.isSecret(v)) v.wipe();
  }
}

const checkCommand: Command = {
  summary: "read an API key's permissions and print the onboarding verdict",
  usage: USAGE,
  async run(argv, io) {
    try {
      return await check(argv, io);
    } catch (err) {
      if (err instanceof KeywardenError && err.code === "ERR_INVALID_ARGUMENT") {
        println(io.stderr, `keywarden: ${err.message}`);
        return EXIT.usage;
      }
      throw err;
    }
  },
};

/** The `key` command group. */
export const key: CommandGroup = {
  summary: "API key checks (permissions, withdraw detection)",
  commands: { check: checkCommand },
};
