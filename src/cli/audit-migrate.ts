/**
 * `keywarden audit migrate`: brings the PostgreSQL audit schema up to date.
 *
 * @packageDocumentation
 */
import { parseArgs } from "node:util";
import { KeywardenError } from "../errors.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

const USAGE = `Usage: keywarden audit migrate (--store postgres://... | --store-env NAME) [options]

Applies the pending PostgreSQL audit schema migrations, in one transaction under an advisory lock.
Run it as the role that owns the schema, not as the application role.

Options:
  --store URL         PostgreSQL connection URL (prefer --store-env: a URL on the command line
                      is visible to other users of the machine)
  --store-env NAME    read the URL from environment variable NAME (removed after reading)
  --rls               also enable per-user row-level security on the audit tables
  --app-role NAME     application role for --rls (default keywarden_app)
  --owner-role NAME   owner role for --rls (default keywarden_owner)
  --json              machine-readable output
  -h, --help          this help`;

/** The connection URL with any password replaced, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * The `audit migrate` command (wired by the `audit` command group).
 *
 * @example
 * ```sh
 * KW_AUDIT_DB=postgres://owner@db/app keywarden audit migrate --store-env KW_AUDIT_DB --rls
 * ```
 * @throws never: errors become a message and a non-zero exit code.
 */
export const migrateCommand: Command = {
  summary: "apply the PostgreSQL audit schema migrations",
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
        json: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    let url = values.store;
    const envName = values["store-env"];
    if ((url === undefined) === (envName === undefined)) {
      println(io.stderr, `keywarden: give exactly one of --store or --store-env\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (envName !== undefined) {
      url = io.env[envName];
      delete io.env[envName];
      if (!url)
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          `environment variable ${envName} is not set`,
        );
    }
    if (!/^postgres(ql)?:\/\//.test(url as string)) {
      println(io.stderr, "keywarden: --store must be a postgres:// URL");
      return EXIT.usage;
    }
    const { default: pg } = await import("pg");
    const { migratePostgresAuditStore } = await import("../audit/storage/postgres/index.js");
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const rls = values.rls
        ? {
            ...(values["app-role"] ? { appRole: values["app-role"] } : {}),
            ...(values["owner-role"] ? { ownerRole: values["owner-role"] } : {}),
          }
        : undefined;
      const result = await migratePostgresAuditStore(pool, rls ? { rls } : {});
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
            ? `audit schema of ${redactUrl(url as string)} is up to date (version ${result.version})`
            : `applied ${result.applied.join(", ")} to ${redactUrl(url as string)} (now version ${result.version})`,
        );
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
