/**
 * `keywarden witness serve`: a C2SP tlog-witness server (add-checkpoint) with durable per-origin
 * state, for users, auditors and other platforms who want to witness a keywarden heads log (or
 * any C2SP log). Binds to 127.0.0.1 by default; stops on SIGINT/SIGTERM.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  createCosigner,
  FileWitnessState,
  LocalEd25519Signer,
  type NoteVerifier,
  parseVerifierKey,
  startWitnessServer,
} from "../audit/transparency/index.js";
import { type CliIo, println } from "./io.js";
import { type Command, type CommandGroup, EXIT } from "./run.js";

const serve: Command = {
  summary: "Run a C2SP tlog-witness server (add-checkpoint) with durable state",
  usage: `Usage: keywarden witness serve --key-file FILE --state FILE --log VKEY [--log VKEY ...]
                              [--host 127.0.0.1] [--port 7380] [--prefix /witness] [--max-body BYTES]

Cosigns checkpoints of the logs whose verifier keys are given (the key name is the log origin),
per c2sp.org/tlog-witness: never a smaller tree, never a second root at one size, always a
consistency proof from the last cosigned size. State is kept in --state (one process at a time).
Prints the witness's cosignature verifier key and URL, then serves until SIGINT or SIGTERM.

Options:
  --key-file FILE   the witness's Ed25519 signer key (keywarden audit keygen); dedicated to witnessing
  --state FILE      per-origin state file (created if missing)
  --log VKEY        a trusted log verifier key (repeatable)
  --host HOST       listen address (default 127.0.0.1; expose through a TLS proxy)
  --port PORT       listen port (default 7380; 0 = any free port)
  --prefix PATH     URL prefix of the submission endpoint (default none)
  --max-body BYTES  request body limit (default 65536)
  -h, --help        this text`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        "key-file": { type: "string" },
        state: { type: "string" },
        log: { type: "string", multiple: true },
        host: { type: "string" },
        port: { type: "string" },
        prefix: { type: "string" },
        "max-body": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    const logsArg = values.log ?? [];
    if (!values["key-file"] || !values.state || logsArg.length === 0) {
      println(io.stderr, `keywarden: --key-file, --state and --log are required\n\n${serve.usage}`);
      return EXIT.usage;
    }
    const port = Number(values.port ?? "7380");
    const maxBody = Number(values["max-body"] ?? "65536");
    if (
      !Number.isInteger(port) ||
      port < 0 ||
      port > 65535 ||
      !Number.isInteger(maxBody) ||
      maxBody < 1024
    ) {
      println(io.stderr, "keywarden: --port must be 0..65535 and --max-body at least 1024");
      return EXIT.usage;
    }
    const logs: Record<string, NoteVerifier[]> = {};
    for (const vkey of logsArg) {
      const v = parseVerifierKey(vkey);
      logs[v.name] = [...(logs[v.name] ?? []), v];
    }
    const signer = await LocalEd25519Signer.fromKeyFile(resolve(io.cwd, values["key-file"]));
    const cosigner = createCosigner(signer);
    const state = await FileWitnessState.open(resolve(io.cwd, values.state));
    try {
      const server = await startWitnessServer({
        logs,
        state,
        cosigner,
        host: values.host ?? "127.0.0.1",
        port,
        maxBodyBytes: maxBody,
        ...(values.prefix ? { prefix: values.prefix } : {}),
      });
      println(io.stdout, `witness key: ${cosigner.verifierKey}`);
      println(io.stdout, `listening on ${server.url}/add-checkpoint`);
      await new Promise<void>((done) => {
        process.once("SIGINT", () => done());
        process.once("SIGTERM", () => done());
      });
      await server.close();
    } finally {
      await state.close();
      signer.destroy();
    }
    return EXIT.ok;
  },
};

/** The `witness` command group. */
export const witness: CommandGroup = {
  summary: "Witness transparency logs (C2SP tlog-witness)",
  commands: { serve },
};
