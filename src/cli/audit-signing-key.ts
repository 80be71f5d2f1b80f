/**
 * `keywarden audit keygen`, and the signing-key loader that `export --key`, `checkpoint` and
 * `witness` share (a key file, or an environment variable removed once read).
 */
import { parseArgs } from "node:util";
import { LocalEd25519Signer, writeSignerKeyFile } from "../audit/transparency/index.js";
import { createCosigner } from "../audit/transparency/portable.js";
import { KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";
import { resolvePath, usageError } from "./args.js";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

/**
 * The signing key named by `--key FILE`, or else read (once, then removed from the environment)
 * from `keyEnv` (default KEYWARDEN_AUDIT_SIGNING_KEY).
 */
export async function loadSigner(
  io: CliIo,
  keyFile?: string,
  keyEnv?: string,
): Promise<LocalEd25519Signer> {
  if (keyFile) return LocalEd25519Signer.fromKeyFile(resolvePath(io, keyFile));
  const name = keyEnv ?? "KEYWARDEN_AUDIT_SIGNING_KEY";
  const text = io.env[name];
  delete io.env[name];
  if (io.env !== process.env) delete process.env[name];
  if (!text)
    throw new KeywardenError("ERR_ENV_SECRET_MISSING", `environment variable ${name} is not set`);
  const secret = Secret.fromString(text);
  try {
    return LocalEd25519Signer.fromSecret(secret);
  } finally {
    secret.wipe();
  }
}

/** `keywarden audit keygen`. */
export const keygenCommand: Command = {
  summary: "Generate an Ed25519 checkpoint (or witness) signing key; print its public verifier key",
  usage: `Usage: keywarden audit keygen --name NAME --out FILE [--cosigner] [--json]

Writes a new signing key to FILE (mode 0600, never overwritten) in the signed-note signer-key
format, and prints the PUBLIC verifier key to publish (e.g. on your website and in user docs).
The private key is never printed. To use it from the environment:
  KEYWARDEN_AUDIT_SIGNING_KEY="$(cat FILE)"

Options:
  --name NAME    key name: your log name (e.g. audit.example.com) or witness name
  --out FILE     where to write the private key
  --cosigner     print the witness cosignature verifier key (type 0x04) instead
  --json         print {"ok":true,"name","verifierKey","cosigner":bool} (the public key only)
  -h, --help     this text`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        name: { type: "string" },
        out: { type: "string" },
        cosigner: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
    if (!values.name || !values.out) usageError("--name and --out are required");
    const { signer, privateKey } = LocalEd25519Signer.generate(values.name);
    try {
      await writeSignerKeyFile(resolvePath(io, values.out), privateKey);
    } finally {
      privateKey.wipe();
    }
    const verifierKey = values.cosigner ? createCosigner(signer).verifierKey : signer.verifierKey;
    println(
      io.stdout,
      values.json
        ? JSON.stringify({ ok: true, name: values.name, verifierKey, cosigner: values.cosigner })
        : verifierKey,
    );
    signer.destroy();
    return EXIT.ok;
  },
};
