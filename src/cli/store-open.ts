/**
 * Opens the audit store a parsed `--store` URL names (./store-url.ts), loading only the driver
 * that store needs: `better-sqlite3`, `pg` or `@aws-sdk/client-dynamodb`, each an optional peer
 * (a missing one is `ERR_NOT_SUPPORTED` naming the package). Read-only opens are enforced twice:
 * by the backend where it can (file: no lock; SQLite: a read-only connection; PostgreSQL:
 * `default_transaction_read_only`) and by a view that refuses every write call.
 */
import { isAbsolute, join } from "node:path";
import type { AuditStore } from "../audit/storage/index.js";
import { KeywardenError } from "../errors.js";
import type { CliIo } from "./io.js";
import { readPgpass } from "./pgpass.js";
import { type PostgresConnection, parseStoreUrl, type StoreUrl } from "./store-url.js";

/** An opened store; `close()` releases the store and the connection behind it. */
export interface OpenedStore {
  readonly store: AuditStore;
  close(): Promise<void>;
}

function missingPeer(pkg: string, cause: unknown): KeywardenError {
  return new KeywardenError(
    "ERR_NOT_SUPPORTED",
    `this store needs the optional peer ${pkg} (npm install ${pkg})`,
    { cause, details: { package: pkg } },
  );
}

function readOnlyRefusal(): Promise<never> {
  return Promise.reject(
    new KeywardenError("ERR_NOT_SUPPORTED", "the store was opened read-only for this command"),
  );
}

/**
 * The store with every write method refused (`ERR_NOT_SUPPORTED`); reads pass through.
 *
 * @example
 * ```ts
 * const view = readOnlyAuditStore(store); // view.append(...) rejects
 * ```
 * @throws never (the write methods reject).
 */
export function readOnlyAuditStore(store: AuditStore): AuditStore {
  /* Precondition: a command that only reads cannot write through the store it opened. */
  return {
    capabilities: store.capabilities,
    head: (chainId) => store.head(chainId),
    read: (chainId, from, to) => store.read(chainId, from, to),
    append: () => readOnlyRefusal(),
    erasePayload: () => readOnlyRefusal(),
    ...(store.findByIdempotencyKey
      ? { findByIdempotencyKey: store.findByIdempotencyKey.bind(store) }
      : {}),
    ...(store.getTreeNodes ? { getTreeNodes: store.getTreeNodes.bind(store) } : {}),
    ...(store.latestCheckpoint ? { latestCheckpoint: store.latestCheckpoint.bind(store) } : {}),
    ...(store.putCheckpoint ? { putCheckpoint: () => readOnlyRefusal() } : {}),
  };
}

/** The structural subset of `pg.Pool` the CLI uses. */
export interface CliPgPool {
  connect(): Promise<{
    query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
    release(err?: unknown): void;
  }>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): unknown;
}

/**
 * A `pg.Pool` for a parsed PostgreSQL URL. The password is resolved only when the server asks
 * for one: from the URL (accepted only from `--store-env`), `PGPASSWORD`, or the password file.
 *
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when `pg` is not installed.
 */
export async function openPgPool(
  store: Extract<StoreUrl, { kind: "postgres" }>,
  io: CliIo,
  options: { readOnly: boolean; max?: number },
): Promise<CliPgPool> {
  let pg: { default: { Pool: new (config: object) => CliPgPool } };
  try {
    pg = (await import("pg")) as unknown as typeof pg;
  } catch (err) {
    throw missingPeer("pg", err);
  }
  const c: PostgresConnection = store.connection;
  const user = c.user ?? io.env.USER ?? "postgres";
  const host = c.host ?? "localhost";
  const port = c.port ?? 5432;
  const database = c.database ?? user;
  const env = io.env;
  const urlPassword = store.urlPassword;
  const pool = new pg.default.Pool({
    host,
    port,
    user,
    database,
    max: options.max ?? 4,
    ...(c.sslmode === undefined || c.sslmode === "disable" ? { ssl: false } : { ssl: true }),
    ...(c.applicationName ? { application_name: c.applicationName } : {}),
    ...(options.readOnly ? { options: "-c default_transaction_read_only=on" } : {}),
    password: async () =>
      urlPassword?.useText((text) => text) ??
      env.PGPASSWORD ??
      (await readPgpass(env, { host, port, database, user })),
  });
  // An idle connection's error must not crash the process; the next query reports it.
  pool.on("error", () => undefined);
  return pool;
}

async function openDynamo(
  store: Extract<StoreUrl, { kind: "dynamodb" }>,
  io: CliIo,
): Promise<OpenedStore> {
  let sdk: typeof import("@aws-sdk/client-dynamodb");
  try {
    sdk = await import("@aws-sdk/client-dynamodb");
  } catch (err) {
    throw missingPeer("@aws-sdk/client-dynamodb", err);
  }
  const { openDynamoDbAuditStore } = await import("../audit/storage/dynamodb/index.js");
  const env = io.env;
  const region = store.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region)
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "--store: dynamodb://TABLE needs ?region=… (or AWS_REGION)",
      { details: { option: "store", reason: "invalid-parameter" } },
    );
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  const client = new sdk.DynamoDBClient({
    region,
    ...(store.endpoint ? { endpoint: store.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  try {
    const opened = await openDynamoDbAuditStore({
      client,
      tableName: store.table,
      homeRegion: store.homeRegion,
    });
    return {
      store: opened,
      async close() {
        client.destroy();
      },
    };
  } catch (err) {
    client.destroy();
    throw err;
  }
}

async function openParsed(
  url: StoreUrl,
  io: CliIo,
  readOnly: boolean,
  resolvePath: (p: string) => string,
): Promise<OpenedStore> {
  switch (url.kind) {
    case "file": {
      const { openFileAuditStore } = await import("../audit/storage/file/index.js");
      const store = await openFileAuditStore(resolvePath(url.path), { readOnly });
      return { store, close: async () => store.close?.() };
    }
    case "sqlite": {
      const { openSqliteAuditStore } = await import("../audit/storage/sqlite/index.js");
      const store = await openSqliteAuditStore({ database: resolvePath(url.path), readOnly });
      return { store, close: async () => store.close?.() };
    }
    case "postgres": {
      const { createPostgresAuditStore } = await import("../audit/storage/postgres/index.js");
      const pool = await openPgPool(url, io, { readOnly });
      const store = createPostgresAuditStore({ pool: pool as never });
      return {
        store,
        async close() {
          await store.close?.();
          await pool.end();
        },
      };
    }
    case "dynamodb":
      return openDynamo(url, io);
  }
}

/**
 * Parses and opens a `--store` URL (typed on the command line, or read from `--store-env`).
 * With `readOnly`, the returned store refuses writes whatever the backend.
 *
 * @example
 * ```ts
 * const { store, close } = await openStoreFromUrl("sqlite:audit.db", io, { readOnly: true });
 * try { await new AuditLog({ store }).verifyChain("operator"); } finally { await close(); }
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a bad URL (see ./store-url.ts);
 * `ERR_NOT_SUPPORTED` when the store's optional peer is missing; the store's own open errors.
 */
export async function openStoreFromUrl(
  text: string | undefined,
  io: CliIo,
  options: { readOnly: boolean; source?: "argv" | "env" },
): Promise<OpenedStore> {
  const url = parseStoreUrl(text, options.source ?? "argv", io.env);
  const opened = await openParsed(url, io, options.readOnly, (p) =>
    isAbsolute(p) ? p : join(io.cwd, p),
  );
  return options.readOnly
    ? { store: readOnlyAuditStore(opened.store), close: opened.close }
    : opened;
}

/** parseArgs specs of `--store URL` and `--store-env NAME`, spread into each command's options. */
export const STORE_OPTIONS = {
  store: { type: "string" },
  "store-env": { type: "string" },
} as const;

/** Usage lines for {@link STORE_OPTIONS}. */
export const STORE_USAGE = `  --store URL        the audit store: file:PATH, sqlite:PATH, postgres://[user@]host[:port]/db
                     (password from PGPASSWORD or ~/.pgpass, never in the URL on the command
                     line) or dynamodb://TABLE?region=R[&endpoint=URL]
  --store-env NAME   or: read the store URL from environment variable NAME (removed once read;
                     a PostgreSQL URL there may carry its password)`;

/**
 * The store URL text given by `--store URL` or `--store-env NAME` (the variable is removed from
 * `io.env` once read), with where it came from; `undefined` unless exactly one of them is given.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the named variable is unset or empty.
 */
export function storeUrlText(
  values: { readonly store?: string | undefined; readonly "store-env"?: string | undefined },
  io: CliIo,
): { readonly text: string; readonly source: "argv" | "env" } | undefined {
  const envName = values["store-env"];
  if ((values.store === undefined) === (envName === undefined)) return undefined;
  if (envName === undefined) return { text: values.store as string, source: "argv" };
  const text = io.env[envName];
  delete io.env[envName];
  if (!text)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", `environment variable ${envName} is not set`);
  return { text, source: "env" };
}

/**
 * The store named by `--store URL` or `--store-env NAME` (the variable is removed once read),
 * opened read-only or for writing.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` unless exactly one of them is given, or the
 * variable is unset; otherwise as {@link openStoreFromUrl}.
 */
export async function openStoreOption(
  values: { readonly store?: string | undefined; readonly "store-env"?: string | undefined },
  io: CliIo,
  options: { readOnly: boolean },
): Promise<OpenedStore> {
  const given = storeUrlText(values, io);
  if (given === undefined)
    throw Object.assign(new Error("give exactly one of --store or --store-env"), {
      code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
    });
  return openStoreFromUrl(given.text, io, { ...options, source: given.source });
}
