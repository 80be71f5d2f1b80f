/**
 * `keywarden kms …`: create the LocalKms master key file, and print the AWS role trust policy and
 * KMS key policy that bind key use to each user's own session.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildKeyPolicy, buildTrustPolicy, createMasterKeyFile } from "../vault/kms/index.js";
import { println } from "./io.js";
import { type Command, type CommandGroup, EXIT } from "./run.js";

const INIT_USAGE = `Usage: keywarden kms init --out PATH [--json]

Creates a LocalKms master key file (32 random bytes) with mode 0600. Fails if PATH exists.
LocalKms is for development and self-hosting: whoever can read this file can decrypt every
user's data key. Use AWS KMS (keywarden/vault/aws-kms) where operators must not be able to.

Options:
  --out PATH       where to create the key file
  --json           print {"ok":true,"path":"<absolute path>"} on stdout
  -h, --help       this text`;

const POLICY_USAGE = `Usage: keywarden kms policy --account ID --oidc-provider HOST --audience AUD
         --session-role NAME --key-admin ARN [--key-admin ARN …] [--grant-role NAME] [--partition P]
         [--json]

Prints {"trustPolicy": …, "keyPolicy": …} as JSON: the trust policy of the role users' sessions
assume with their JWT (STS AssumeRoleWithWebIdentity), and the key policy that lets that role use
the key only for the caller's own userId, lets the grant runner role (if any) decrypt only grant
copies, and denies every other principal Decrypt, ReEncrypt*, CreateGrant and GenerateDataKey*.
See docs/kms-setup.md for what this does and does not guarantee.

Options:
  --account ID         12-digit AWS account id
  --oidc-provider HOST IAM OIDC provider host, e.g. auth.example.com
  --audience AUD       the users' token audience (client id)
  --session-role NAME  role assumed by user sessions
  --grant-role NAME    role the trading bot runs as for grants (optional)
  --key-admin ARN      key administrator principal (repeatable; administers, never uses)
  --partition P        AWS partition (default aws)
  --json               accepted for uniformity: the output is always {"trustPolicy","keyPolicy"}
  -h, --help           this text`;

/** `keywarden kms init`. */
export const initCommand: Command = {
  summary: "Create a LocalKms master key file (mode 0600)",
  usage: INIT_USAGE,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { out: { type: "string" }, json: { type: "boolean", default: false } },
    });
    if (!values.out) {
      println(io.stderr, INIT_USAGE);
      return EXIT.usage;
    }
    const path = resolve(io.cwd, values.out);
    createMasterKeyFile(path);
    if (values.json) println(io.stdout, JSON.stringify({ ok: true, path }));
    else println(io.stdout, `created master key file ${path} (mode 0600)`);
    return EXIT.ok;
  },
};

/** `keywarden kms policy`. */
export const policyCommand: Command = {
  summary: "Print the AWS role trust policy and KMS key policy",
  usage: POLICY_USAGE,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        account: { type: "string" },
        "oidc-provider": { type: "string" },
        audience: { type: "string" },
        "session-role": { type: "string" },
        "grant-role": { type: "string" },
        "key-admin": { type: "string", multiple: true },
        partition: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    const required = [
      values.account,
      values["oidc-provider"],
      values.audience,
      values["session-role"],
    ];
    if (required.some((v) => v === undefined) || !values["key-admin"]?.length) {
      println(io.stderr, POLICY_USAGE);
      return EXIT.usage;
    }
    const options = {
      accountId: values.account as string,
      oidcProvider: values["oidc-provider"] as string,
      audience: values.audience as string,
      sessionRoleName: values["session-role"] as string,
      keyAdminArns: values["key-admin"],
      ...(values["grant-role"] === undefined ? {} : { grantRoleName: values["grant-role"] }),
      ...(values.partition === undefined ? {} : { partition: values.partition }),
    };
    const out = { trustPolicy: buildTrustPolicy(options), keyPolicy: buildKeyPolicy(options) };
    println(io.stdout, JSON.stringify(out, null, 2));
    return EXIT.ok;
  },
};

/** The `kms` command group. */
export const kms: CommandGroup = {
  summary: "Master keys: LocalKms key file, AWS KMS policies",
  commands: { init: initCommand, policy: policyCommand },
};
