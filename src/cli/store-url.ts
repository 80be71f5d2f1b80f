/**
 * The one parser for the `--store URL` option of every `keywarden` command that opens an audit
 * store. Pure: it reads only the text and the environment it is given, loads no driver and never
 * puts a password in a message, an error or its result.
 *
 * | URL                                        | store                                            |
 * | ------------------------------------------ | ------------------------------------------------ |
 * | `file:PATH`                                | the JSON Lines file store                        |
 * | `sqlite:PATH`                              | the SQLite store (better-sqlite3)                |
 * | `postgres://[user@][host][:port][/db][?sslmode=…&application_name=…]` (or `postgresql://`) | the PostgreSQL store (pg); omitted parts from `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE` |
 * | `dynamodb://TABLE[?region=…&endpoint=…&homeRegion=…]` | the DynamoDB store (@aws-sdk/client-dynamodb) |
 *
 * A PostgreSQL password comes from `PGPASSWORD` or the password file (`PGPASSFILE`, default
 * `~/.pgpass`). A URL with a password is refused when it was typed on the command line (other
 * users of the machine can read a process's arguments); from `--store-env NAME` it is accepted.
 */
import { z } from "zod";
import { KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";

/** Why a store URL was refused; carried in `details.reason` of the `ERR_INVALID_ARGUMENT`. */
export type StoreUrlProblem =
  | "empty"
  | "unknown-scheme"
  | "missing-path"
  | "malformed"
  | "password-on-command-line"
  | "credentials-in-url"
  | "unknown-parameter"
  | "invalid-parameter";

/** A PostgreSQL connection, without its password. */
export interface PostgresConnection {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly database?: string | undefined;
  readonly sslmode?: "disable" | "require" | "verify-full" | undefined;
  readonly applicationName?: string | undefined;
}

/** A parsed `--store` URL. */
export type StoreUrl =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "sqlite"; readonly path: string }
  | {
      readonly kind: "postgres";
      readonly connection: PostgresConnection;
      /**
       * The password written in the URL (only accepted from `--store-env`), as a redacting
       * {@link Secret} so that printing or serializing a parsed URL never shows it.
       */
      readonly urlPassword?: Secret | undefined;
    }
  | {
      readonly kind: "dynamodb";
      readonly table: string;
      readonly region?: string | undefined;
      readonly endpoint?: string | undefined;
      readonly homeRegion?: string | undefined;
    };

/** Where the URL text came from: the command line (visible to others) or an environment variable. */
export type StoreUrlSource = "argv" | "env";

function refuse(reason: StoreUrlProblem, message: string): never {
  throw new KeywardenError("ERR_INVALID_ARGUMENT", `--store: ${message}`, {
    details: { option: "store", reason },
  });
}

const postgresParams = z
  .object({
    sslmode: z.enum(["disable", "require", "verify-full"]).optional(),
    application_name: z
      .string()
      .regex(/^[\w .:-]{1,63}$/)
      .optional(),
  })
  .strict();

const dynamoParams = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$|^local$/)
      .optional(),
    homeRegion: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$|^local$/)
      .optional(),
    endpoint: z
      .string()
      .regex(/^https?:\/\/[^/@\s]+\/?$/)
      .optional(),
  })
  .strict();

function params(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (k in out) refuse("invalid-parameter", `parameter '${k}' is given twice`);
    out[k] = v;
  }
  return out;
}

function checkParams<T>(schema: z.ZodType<T>, url: URL, scheme: string): T {
  const r = schema.safeParse(params(url));
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = String(issue?.path[0] ?? (issue as { keys?: string[] })?.keys?.[0] ?? "?");
  // Only the parameter's name is echoed, never its value.
  if (issue?.code === "unrecognized_keys")
    refuse(
      "unknown-parameter",
      `unknown ${scheme} parameter '${(issue as { keys: string[] }).keys[0]}'`,
    );
  return refuse("invalid-parameter", `invalid value for ${scheme} parameter '${key}'`);
}

function pathAfter(text: string, prefix: string): string {
  const path = text.slice(prefix.length);
  if (path.length === 0) refuse("missing-path", `${prefix}PATH needs a path`);
  return path;
}

function parsePostgres(text: string, source: StoreUrlSource, env: NodeJS.ProcessEnv): StoreUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse("malformed", "not a valid postgres:// URL (its text is not shown)");
  }
  /* Precondition: a password typed on the command line is refused, and never echoed. */
  if (url.password !== "" && source === "argv")
    refuse(
      "password-on-command-line",
      "the URL carries a password, which other users of this machine can read on the command line; put it in PGPASSWORD or ~/.pgpass, or pass the whole URL with --store-env NAME",
    );
  const q = checkParams(postgresParams, url, "postgres");
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return refuse("malformed", "the URL has an invalid percent-encoding");
    }
  };
  const port = url.port || env.PGPORT;
  if (port !== undefined && port !== "" && !/^\d{1,5}$/.test(port))
    refuse("invalid-parameter", "the PostgreSQL port must be a number");
  const database = url.pathname.replace(/^\//, "");
  const sslEnv = env.PGSSLMODE;
  const sslmode =
    q.sslmode ??
    (sslEnv === "disable" || sslEnv === "require" || sslEnv === "verify-full" ? sslEnv : undefined);
  const connection: PostgresConnection = {
    host: url.hostname ? decode(url.hostname.replace(/^\[(.*)\]$/, "$1")) : env.PGHOST || undefined,
    port: port ? Number(port) : undefined,
    user: url.username ? decode(url.username) : env.PGUSER || undefined,
    database: database ? decode(database) : env.PGDATABASE || undefined,
    sslmode,
    applicationName: q.application_name,
  };
  return {
    kind: "postgres",
    connection,
    ...(url.password ? { urlPassword: Secret.fromString(decode(url.password)) } : {}),
  };
}

function parseDynamo(text: string): StoreUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse("malformed", "not a valid dynamodb://TABLE URL");
  }
  if (url.username !== "" || url.password !== "")
    refuse(
      "credentials-in-url",
      "AWS credentials do not go in the URL; use the AWS environment variables or profile",
    );
  // dynamodb: is not a special scheme, so the host (the table name) keeps its case.
  const table = url.hostname;
  if (url.port !== "" || (url.pathname !== "" && url.pathname !== "/"))
    refuse("malformed", "dynamodb://TABLE takes no port or path");
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table))
    refuse("malformed", "dynamodb://TABLE needs a valid table name (3-255 of A-Z a-z 0-9 _ . -)");
  const q = checkParams(dynamoParams, url, "dynamodb");
  return {
    kind: "dynamodb",
    table,
    region: q.region,
    endpoint: q.endpoint,
    homeRegion: q.homeRegion,
  };
}

/**
 * Parses a `--store` URL.
 *
 * @example
 * ```ts
 * parseStoreUrl("sqlite:/var/lib/bot/audit.db", "argv", process.env);
 * // { kind: "sqlite", path: "/var/lib/bot/audit.db" }
 * parseStoreUrl("postgres://audit@db.internal/keywarden", "argv", process.env);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` with `details.reason` a {@link StoreUrlProblem};
 * the message never contains the URL's password (nor, when it cannot be parsed, the URL).
 */
export function parseStoreUrl(
  text: string | undefined,
  source: StoreUrlSource,
  env: NodeJS.ProcessEnv,
): StoreUrl {
  if (text === undefined || text.trim() === "")
    return refuse("empty", "a store URL is required (file:, sqlite:, postgres://, dynamodb://)");
  if (text.startsWith("file:")) return { kind: "file", path: pathAfter(text, "file:") };
  if (text.startsWith("sqlite:")) return { kind: "sqlite", path: pathAfter(text, "sqlite:") };
  if (/^postgres(ql)?:\/\//.test(text)) return parsePostgres(text, source, env);
  if (text.startsWith("dynamodb://")) return parseDynamo(text);
  return refuse(
    "unknown-scheme",
    "unsupported store URL (use file:PATH, sqlite:PATH, postgres://… or dynamodb://TABLE)",
  );
}

/**
 * The URL as it may be shown: never a password. For messages such as "migrated postgres://…".
 *
 * @example
 * ```ts
 * describeStoreUrl(parseStoreUrl("postgres://u@h/db", "argv", {})); // "postgres://u@h/db"
 * ```
 * @throws never.
 */
export function describeStoreUrl(store: StoreUrl): string {
  switch (store.kind) {
    case "file":
    case "sqlite":
      return `${store.kind}:${store.path}`;
    case "dynamodb":
      return `dynamodb://${store.table}${store.region ? ` (${store.region})` : ""}`;
    case "postgres": {
      const c = store.connection;
      const user = c.user ? `${encodeURIComponent(c.user)}@` : "";
      return `postgres://${user}${c.host ?? ""}${c.port ? `:${c.port}` : ""}/${c.database ?? ""}`;
    }
  }
}
