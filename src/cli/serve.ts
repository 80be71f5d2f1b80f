import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type CliIo, println } from "./io.js";
import { type Command, EXIT } from "./run.js";

/** `keywarden serve`: the signer service over an embedded keywarden data directory. */
export const serve: Command = {
  summary: "Run the signer service (bots call it; only it holds the vault)",
  usage: `Usage: keywarden serve --data-dir DIR --operator-token-file FILE [options]

Runs the signer over the embedded keywarden in DIR: it holds the master key, the credential store,
the audit log and ccxt; trading bots call it with keywarden/trading/remote and a capability from
enrolment. Listens on a Unix socket (default DIR/signer.sock, mode 0600), or on loopback TCP with
mutual TLS. Logs JSON lines (pino) on stdout, with every credential and authorization redacted.
Stops on SIGTERM/SIGINT after in-flight orders finish. See docs/signer.md.

Options:
  --data-dir DIR              the embedded keywarden data directory
  --operator-token-file FILE  the operator credential (created 0600 with a random token if absent)
  --socket PATH               Unix socket path (default DIR/signer.sock)
  --socket-mode MODE          octal file mode of the socket (default 600; 660 for a bot group)
  --tcp-port N                listen on 127.0.0.1:N with TLS instead (needs the three --tls-*)
  --tls-cert FILE --tls-key FILE --tls-ca FILE   server certificate, key, and the bots' client CA
  --session-issuer ISS --session-audience AUD --session-jwks FILE
                              accept POST /v1/enrolments with users' session tokens (ES256/RS256/EdDSA)
  --log-level LEVEL           fatal, error, warn, info (default), debug
  -h, --help                  this text`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        "operator-token-file": { type: "string" },
        socket: { type: "string" },
        "socket-mode": { type: "string" },
        "tcp-port": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca": { type: "string" },
        "session-issuer": { type: "string" },
        "session-audience": { type: "string" },
        "session-jwks": { type: "string" },
        "log-level": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (!values["data-dir"] || !values["operator-token-file"]) {
      println(
        io.stderr,
        `keywarden: --data-dir and --operator-token-file are required\n\n${serve.usage}`,
      );
      return EXIT.usage;
    }
    const dir = resolve(io.cwd, values["data-dir"]);
    const tokenFile = resolve(io.cwd, values["operator-token-file"]);
    if (!existsSync(tokenFile)) {
      writeFileSync(tokenFile, `${randomBytes(32).toString("base64url")}\n`, {
        mode: 0o600,
        flag: "wx",
      });
      println(io.stderr, `keywarden: created the operator token file ${tokenFile}`);
    }
    if ((statSync(tokenFile).mode & 0o077) !== 0) {
      println(io.stderr, "keywarden: the operator token file must not be group- or world-readable");
      return EXIT.failed;
    }
    const [
      { openKeywarden },
      signer,
      { Secret },
      { createFileTradingState },
      { emergencyVaultOps },
    ] = await Promise.all([
      import("../embedded/index.js"),
      import("../signer/index.js"),
      import("../secret.js"),
      import("../trading/index.js"),
      import("../vault/index.js"),
    ]);
    let sessions: import("../guard/index.js").SessionVerifier | undefined;
    if (values["session-jwks"]) {
      const { createLocalJWKSet } = await import("jose");
      const { createSessionVerifier } = await import("../guard/index.js");
      sessions = createSessionVerifier({
        issuer: values["session-issuer"] ?? "",
        audience: values["session-audience"] ?? "",
        algorithms: ["ES256", "RS256", "EdDSA"],
        key: createLocalJWKSet(
          JSON.parse(readFileSync(resolve(io.cwd, values["session-jwks"]), "utf8")),
        ),
      });
    }
    const kw = await openKeywarden({ dataDir: dir });
    const port = values["tcp-port"] === undefined ? undefined : Number(values["tcp-port"]);
    const file = (f: string | undefined) => readFileSync(resolve(io.cwd, f ?? ""));
    const server = await signer.createSignerServer({
      vault: kw.vault,
      audit: kw.audit,
      trading: kw.trading,
      state: createFileTradingState(join(dir, "killswitch")),
      capabilities: await signer.openFileCapabilityStore(join(dir, "capabilities.json")),
      sessions,
      operator: {
        id: "cli-operator",
        token: Secret.fromString(readFileSync(tokenFile, "utf8").trim()),
      },
      emergency: emergencyVaultOps(kw.vault),
      listen:
        port === undefined
          ? {
              socketPath: resolve(io.cwd, values.socket ?? join(dir, "signer.sock")),
              socketMode: Number.parseInt(values["socket-mode"] ?? "600", 8),
            }
          : {
              host: "127.0.0.1",
              port,
              tls: {
                cert: file(values["tls-cert"]),
                key: file(values["tls-key"]),
                ca: file(values["tls-ca"]),
              },
            },
      log: { write: (line: string) => io.stdout.write(line) },
      logLevel: (values["log-level"] ?? "info") as "info",
    });
    println(io.stderr, `keywarden: signer listening on ${server.address}`);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    await server.close();
    await kw.close();
    return EXIT.ok;
  },
};
