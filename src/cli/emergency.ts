import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type CliIo, println } from "./io.js";
import { type Command, type CommandGroup, EXIT } from "./run.js";

const revokeAll: Command = {
  summary: "Fire every kill switch, lock every key and revoke every grant (decrypts nothing)",
  usage: `Usage: keywarden emergency revoke-all --data-dir DIR --reason TEXT --operator ID
                                    [--audit-store URL | --audit-store-env NAME] [--json]

For a suspected leak of the key store. For every user of the embedded keywarden in DIR: fires the
kill switch (no new orders), locks every stored credential until the user re-authorizes with a live
session, revokes every trading grant, and records it on the user's chain and the operator chain.
It opens no master key and makes no KMS call, so it works while the KMS itself is suspect; for the
same reason it cannot cancel open orders. Stop the trading service first (it holds the audit log).

Prints one JSON line per user to notify ({"userId","kind":"rotate-keys",...}) on stdout — pipe it
to your mailer — then a summary on stderr. Exits 1 if any step failed for any user.

Options:
  --data-dir DIR    the embedded keywarden data directory
  --reason TEXT     why (recorded in every audit entry)
  --operator ID     the operator's id (recorded as the actor)
  --audit-store URL where the audit chains live, when not in DIR/audit.jsonl: file:PATH,
                    sqlite:PATH, postgres://… (password from PGPASSWORD/~/.pgpass) or
                    dynamodb://TABLE?region=R (opened for writing)
  --audit-store-env NAME  or: the audit store URL from environment variable NAME
  --json            print the summary {"users","credentialsDisabled","grantsRevoked","failures":
                    [{"userId","step","code"}],...} as JSON on stdout after the notices
  -h, --help        this text`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        reason: { type: "string" },
        operator: { type: "string" },
        "audit-store": { type: "string" },
        "audit-store-env": { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (!values["data-dir"] || !values.reason || !values.operator) {
      println(
        io.stderr,
        `keywarden: --data-dir, --reason and --operator are required\n\n${revokeAll.usage}`,
      );
      return EXIT.usage;
    }
    const { emergencyRevokeEmbedded } = await import("../embedded/emergency.js");
    const custom =
      values["audit-store"] !== undefined || values["audit-store-env"] !== undefined
        ? await (await import("./store-open.js")).openStoreOption(
            { store: values["audit-store"], "store-env": values["audit-store-env"] },
            io,
            { readOnly: false },
          )
        : undefined;
    let report: Awaited<ReturnType<typeof emergencyRevokeEmbedded>>;
    try {
      report = await emergencyRevokeEmbedded(
        resolve(io.cwd, values["data-dir"]),
        values.reason,
        values.operator,
        (n) => println(io.stdout, JSON.stringify(n)),
        custom ? { auditStore: custom.store } : {},
      );
    } finally {
      await custom?.close();
    }
    if (values.json) println(io.stdout, JSON.stringify(report));
    println(
      io.stderr,
      `emergency revocation: ${report.users} user(s), ${report.credentialsDisabled} credential set(s) locked, ${report.grantsRevoked} grant(s) revoked, ${report.failures.length} failure(s)`,
    );
    for (const f of report.failures)
      println(io.stderr, `  failed: ${f.userId} ${f.step} ${f.code}`);
    return report.failures.length === 0 ? EXIT.ok : EXIT.failed;
  },
};

/** `keywarden emergency`: operator commands for incidents. */
export const emergency: CommandGroup = {
  summary: "Operator commands for incidents (emergency revocation)",
  commands: { "revoke-all": revokeAll },
};
