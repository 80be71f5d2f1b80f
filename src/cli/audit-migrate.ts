/**
 * `keywarden audit migrate`: brings an audit store's schema up to date — PostgreSQL migrations,
 * the SQLite schema, the DynamoDB table (created with `--create-table`); the file store has none.
 *
 * @packageDocumentation
 */
import { parseArgs } from "node:util";
import { isKeywardenError, KeywardenError } from "../errors.js";
import { resolvePath } from "./args.js";
import { type CliIo, println } from "./io.js";
import { progressLine } from "./progress.js";
import { type Command, EXIT } from "./run.js";
import { openPgPool, openStoreFromUrl, STORE_USAGE, storeUrlText } from "./store-open.js";
import { describeStoreUrl, parseStoreUrl, type StoreUrl } from "./store-url.js";

const USAGE = `Usage: keywarden audit migrate (--store URL | --store-env NAME) [options]

Brings the audit store's schema up to date. PostgreSQL: applies the pending migrations in one
transaction under an advisory lock (run it as the role that owns the schema, not as the
application role). SQLite: creates or upgrades the schema in the database file. DynamoDB: checks
the table (with --create-table, creates it when missing). file: nothing to migrate.

Options:
${STORE_USAGE}
  --rls               PostgreSQL: also enable per-user row-level security on the audit tables
  --app-role NAME     application role for --rls (default keywarden_app)
  --owner-role NAME   owner role for --rls (default keywarden_owner)
  --create-table      DynamoDB: create the table (on-demand capacity) when it does not exist
  --json              print {"ok":true,"applied":[names],"version":N,"rls":bool} on stdout
  -h, --help          this help`;

interface MigrateOutcome {
  readonly applied: readonly string[];
  readonly version: number;
}

async function migratePostgres(
  url: Extract<StoreUrl, { kind: "postgres" }>,
  io: CliIo,
  rls: { appRole?: string; ownerRole?: string } | undefined,
): Promise<MigrateOutcome> {
  const { migratePostgresAuditStore } = await import("../audit/storage/postgres/index.js");
  const pool = await openPgPool(url, io, { readOnly: false, max: 1 });
  try {
    return await migratePostgresAuditStore(pool as never, rls ? { rls } : {});
  } finally {
    await pool.end();
  }
}

async function migrateSqlite(path: string): Promise<MigrateOutcome> {
  const { openSqliteAuditStore, SQLITE_SCHEMA_VERSION } = await import(
    "../audit/storage/sqlite/index.js"
  );
  let Database: new (p: string) => import("../audit/storage/sqlite/index.js").SqliteDatabaseLike;
  try {
    Database = (await import("better-sqlite3")).default as unknown as typeof Database;
  } catch (cause) {
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "this store needs the optional peer better-sqlite3 (npm install better-sqlite3)",
      { cause, details: { package: "better-sqlite3" } },
    );
  }
  const db = new Database(path);
  try {
    const before = db.pragma("user_version", { simple: true }) as number;
    // Opening writable creates or upgrades the schema (and refuses a newer one).
    await openSqliteAuditStore({ database: db });
    const applied: string[] = [];
    for (let v = before + 1; v <= SQLITE_SCHEMA_VERSION; v++) applied.push(`sqlite-schema-v${v}`);
    return { applied, version: SQLITE_SCHEMA_VERSION };
  } finally {
    db.close();
  }
}

async function migrateDynamo(
  url: Extract<StoreUrl, { kind: "dynamodb" }>,
  text: string,
  source: "argv" | "env",
  io: CliIo,
  createTable: boolean,
): Promise<MigrateOutcome> {
  try {
    const opened = await openStoreFromUrl(text, io, { readOnly: true, source });
    await opened.close();
    return { applied: [], version: 1 };
  } catch (err) {
    const missing =
      isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE") &&
      (err.cause as { name?: string })?.name === "ResourceNotFoundException";
    if (!missing || !createTable) throw err;
  }
  const sdk = await import("@aws-sdk/client-dynamodb");
  const { createDynamoDbAuditTable } = await import("../audit/storage/dynamodb/index.js");
  const env = io.env;
  const client = new sdk.DynamoDBClient({
    region: url.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "",
    ...(url.endpoint ? { endpoint: url.endpoint } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });
  try {
    await createDynamoDbAuditTable(client, url.table);
  } finally {
    client.destroy();
  }
  return { applied: ["dynamodb-table"], version: 1 };
}

/**
 * The `audit migrate` command (wired by the `audit` command group).
 *
 * @example
 * ```sh
 * KW_AUDIT_DB=postgres://owner@db/app keywarden audit migrate --store-env KW_AUDIT_DB --rls
 * ```
 * @throws never for usage errors (they return exit code 2); store errors propagate to the dispatcher.
 */
export const migrateCommand: Command = {
  summary: "Bring an audit store's schema up to date (PostgreSQL, SQLite, DynamoDB)",
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        store: { type: "string" },
        "store-env": { type: "string" },
        rls: { type: "boolean", default: false },
        "app-role": { type: "string" },
        "owner-role": { type: "string" },
        "create-table": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const given = storeUrlText(values, io);
    if (given === undefined) {
      println(io.stderr, `keywarden: give exactly one of --store or --store-env\n\n${USAGE}`);
      return EXIT.usage;
    }
    const { text, source } = given;
    let url: StoreUrl;
    try {
      url = parseStoreUrl(text, source, io.env);
    } catch (err) {
      if (!isKeywardenError(err, "ERR_INVALID_ARGUMENT")) throw err;
      println(io.stderr, `keywarden: ${err.message}`);
      return EXIT.usage;
    }
    if (url.kind !== "postgres" && (values.rls || values["app-role"] || values["owner-role"])) {
      println(io.stderr, "keywarden: --rls, --app-role and --owner-role are for PostgreSQL");
      return EXIT.usage;
    }
    const progress = progressLine(io);
    progress.update(`migrating ${describeStoreUrl(url)}…`);
    let result: MigrateOutcome;
    try {
      switch (url.kind) {
        case "postgres":
          result = await migratePostgres(
            url,
            io,
            values.rls
              ? {
                  ...(values["app-role"] ? { appRole: values["app-role"] } : {}),
                  ...(values["owner-role"] ? { ownerRole: values["owner-role"] } : {}),
                }
              : undefined,
          );
          break;
        case "sqlite":
          result = await migrateSqlite(resolvePath(io, url.path));
          break;
        case "dynamodb":
          result = await migrateDynamo(
            url,
            text as string,
            source,
            io,
            values["create-table"] === true,
          );
          break;
        case "file":
          result = { applied: [], version: 1 };
          break;
      }
    } finally {
      progress.done();
    }
    const where = describeStoreUrl(url);
    if (values.json)
      println(
        io.stdout,
        JSON.stringify({
          ok: true,
          applied: result.applied,
          version: result.version,
          rls: values.rls,
        }),
      );
    else
      println(
        io.stdout,
        result.applied.length === 0
          ? `audit schema of ${where} is up to date (version ${result.version})`
          : `applied ${result.applied.join(", ")} to ${where} (now version ${result.version})`,
      );
    return EXIT.ok;
  },
};
