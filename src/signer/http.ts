/**
 * The signer's HTTP/1.1 binding on Fastify (an optional peer, imported only here and only when a
 * server is created): a Unix domain socket by default, loopback TCP with TLS client certificates
 * as the option; pino logging with every credential and authorization field redacted.
 *
 * @packageDocumentation
 */
import { createHash, X509Certificate } from "node:crypto";
import { chmod, rm } from "node:fs/promises";
import type { TLSSocket } from "node:tls";
import { isKeywardenError, KeywardenError } from "../errors.js";
import { API, BOT_HEADER, MAX_BODY_BYTES, statusOf } from "../trading/remote/protocol.js";
import { type CallerInfo, type SignerCore, SignerService } from "./service.js";

/** Where the signer listens. */
export type SignerListen =
  | {
      /** Unix domain socket path (default transport). Put it in a directory only the signer (and bots' group) can enter. */
      readonly socketPath: string;
      /** File mode of the socket (default 0o600; 0o660 with a shared group for a bot under another OS user). */
      readonly socketMode?: number;
    }
  | {
      /** Loopback TCP with mutual TLS. */
      readonly host: "127.0.0.1" | "::1";
      readonly port: number;
      /** Server key and certificate, and the CA that issued the bots' client certificates (PEM). */
      readonly tls: {
        readonly key: string | Buffer;
        readonly cert: string | Buffer;
        readonly ca: string | Buffer;
      };
    };

/** Options of {@link createSignerServer}. */
export interface SignerServerOptions extends SignerCore {
  readonly listen: SignerListen;
  /**
   * Where structured log lines (pino JSON) go; omitted: no logging. Credentials, authorization
   * headers, capabilities, session tokens and request bodies are redacted.
   */
  readonly log?: { write(line: string): unknown } | undefined;
  /** Log level (default `info`). */
  readonly logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | undefined;
  /** Most time a request may take, in ms (default 30 000). */
  readonly requestTimeoutMs?: number | undefined;
}

/** A running signer. */
export interface SignerServer {
  /** `unix:<path>` or `https://<host>:<port>`. */
  readonly address: string;
  /**
   * Enrols a bot in-process for a live session (what `POST /v1/enrolments` does over HTTP).
   * The returned capability is shown once: hand it to the bot, do not log it.
   */
  enrol(
    session: import("../guard/index.js").Identity,
    options: {
      botId: string;
      exchanges: string[];
      actions: string[];
      ttlMs: number;
      certFingerprint?: string;
    },
  ): Promise<import("./service.js").Enrolment>;
  /** Stops taking requests (503), lets in-flight orders finish, then closes. */
  close(): Promise<void>;
}

/** Every log path that could carry a credential or an authorization. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['proxy-authorization']",
  "headers.authorization",
  "authorization",
  "body",
  "req.body",
  "capability",
  "token",
  "sessionToken",
  "*.capability",
  "*.token",
  "*.apiKey",
  "*.secret",
  "*.password",
  "*.passphrase",
  "*.privateKey",
  "*.authorization",
  "err.cause",
  "err.stack",
];

const ROUTES = ["orders", "cancel", "cancel-all", "call", "killswitch"] as const;
const OPERATOR_ROUTES = ["killswitch", "emergency", "revoke", "metrics"] as const;

type FastifyModule = {
  default: typeof import("fastify").default;
  LogController: typeof import("fastify").LogController;
};

async function loadFastify(): Promise<FastifyModule> {
  try {
    return (await import("fastify")) as unknown as FastifyModule;
  } catch (cause) {
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "keywarden/signer needs the optional peer dependency fastify (npm install fastify)",
      { cause },
    );
  }
}

const fingerprintOf = (socket: unknown): string | undefined => {
  const s = socket as Partial<TLSSocket>;
  const raw =
    typeof s.getPeerCertificate === "function" ? s.getPeerCertificate(false)?.raw : undefined;
  return raw && raw.length > 0 ? createHash("sha256").update(raw).digest("hex") : undefined;
};

/**
 * Hex SHA-256 of a PEM certificate, as the signer binds a bot's TLS client certificate.
 *
 * @example
 * ```ts
 * const certFingerprint = certificateFingerprint(readFileSync("bot-1.crt", "utf8"));
 * ```
 * @throws {Error} for an unparsable certificate.
 */
export function certificateFingerprint(pem: string | Buffer): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
}

/**
 * Starts the signer: the process that holds the vault, the KMS access, the audit writer and
 * ccxt, and answers bots' allowlisted order calls within each user's trading grant.
 *
 * @example
 * ```ts
 * const signer = await createSignerServer({
 *   vault: kw.vault, audit: kw.audit, trading: kw.trading, state,
 *   capabilities: await openFileCapabilityStore("/var/lib/keywarden/capabilities.json"),
 *   operator: { id: "ops", token: Secret.fromString(operatorToken) },
 *   listen: { socketPath: "/run/keywarden/signer.sock" },
 * });
 * const { capability } = await signer.enrol(session, { botId: "bot-1", exchanges: ["binance"], actions: ["trade", "cancel", "read"], ttlMs: 86_400_000 });
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when fastify is not installed;
 * `ERR_INVALID_ARGUMENT` for invalid options.
 */
export async function createSignerServer(options: SignerServerOptions): Promise<SignerServer> {
  const fastify = await loadFastify();
  const Fastify = fastify.default;
  const service = new SignerService(options);
  const listen = options.listen;
  const tcp = "host" in listen;
  if (tcp && listen.host !== "127.0.0.1" && listen.host !== "::1")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "the signer listens on loopback only");
  let draining = false;
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { maxParamLength: 128 },
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    connectionTimeout: options.requestTimeoutMs ?? 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    // One log line per request (below, on response) instead of Fastify's two.
    logController: new fastify.LogController({ disableRequestLogging: true }),
    forceCloseConnections: "idle",
    http2: false,
    ...(tcp
      ? {
          https: {
            key: listen.tls.key,
            cert: listen.tls.cert,
            ca: listen.tls.ca,
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: "TLSv1.3" as const,
          },
        }
      : {}),
    logger: options.log
      ? {
          level: options.logLevel ?? "info",
          stream: options.log,
          redact: { paths: REDACT_PATHS, censor: "[redacted]" },
          serializers: {
            // Method and route only: no headers, no query, no body.
            req: (req: { method: string; routeOptions?: { url?: string }; id: string }) => ({
              id: req.id,
              method: req.method,
              route: req.routeOptions?.url,
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            err: (err: { code?: unknown; message?: unknown }) => ({
              code: typeof err.code === "string" ? err.code : "error",
            }),
          },
        }
      : false,
  } as Parameters<typeof Fastify>[0]);

  const caller = (req: {
    headers: Record<string, unknown>;
    raw: { socket: unknown };
  }): CallerInfo => {
    const bot = req.headers[BOT_HEADER];
    const auth = req.headers.authorization;
    return {
      authorization: typeof auth === "string" ? auth : undefined,
      botId: typeof bot === "string" ? bot : undefined,
      certFingerprint: tcp ? fingerprintOf(req.raw.socket) : undefined,
    };
  };

  const errorCodes = new WeakMap<object, string>();
  app.setErrorHandler((err, req, reply) => {
    service.metrics.errors++;
    let e: KeywardenError;
    const code = (err as { code?: unknown }).code;
    if (isKeywardenError(err)) e = err;
    else if (code === "FST_ERR_CTP_BODY_TOO_LARGE")
      e = new KeywardenError("ERR_SIGNER_REQUEST_TOO_LARGE", "request body too large");
    else if ((err as { statusCode?: number }).statusCode === 503)
      e = new KeywardenError("ERR_SIGNER_UNAVAILABLE", "the signer is shutting down");
    else if (typeof code === "string" && code.startsWith("FST_"))
      e = new KeywardenError("ERR_INVALID_ARGUMENT", "malformed request");
    else e = new KeywardenError("ERR_INTERNAL", "internal error");
    errorCodes.set(req, e.code);
    void reply.code(statusOf(e.code)).send({
      error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) },
    });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply
      .code(404)
      .send({ error: { code: "ERR_GUARD_NOT_FOUND", message: "resource not found" } });
  });
  if (options.log) {
    app.addHook("onResponse", (req, reply, done) => {
      // Request id, method, route, status, error code and time: never headers, query or body.
      req.log.info(
        {
          req,
          res: reply,
          code: errorCodes.get(req),
          ms: Math.round(reply.elapsedTime * 100) / 100,
        },
        "request completed",
      );
      done();
    });
  }
  app.addHook("onRequest", async (req, reply) => {
    service.metrics.requests++;
    /* Precondition: once shutdown starts, new requests are refused; in-flight ones finish. */
    if (draining && req.url !== "/healthz") {
      void reply.header("connection", "close");
      throw new KeywardenError("ERR_SIGNER_UNAVAILABLE", "the signer is shutting down");
    }
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    if (draining) return reply.code(503).send({ ready: false });
    await options.state.listActive(); // the kill-switch store answers
    return { ready: true };
  });
  for (const route of ROUTES) {
    app.post(`${API}/${route}`, async (req) => ({
      result: await service.bot(route, caller(req), req.body),
    }));
  }
  for (const route of OPERATOR_ROUTES) {
    app.post(`${API}/operator/${route}`, async (req) => ({
      result: await service.operator(route, caller(req), req.body),
    }));
  }
  app.post(`${API}/enrolments`, async (req) => ({
    result: await service.enrolWithSession(caller(req), req.body),
  }));

  let address: string;
  if (tcp) {
    address = await app.listen({ host: listen.host, port: listen.port });
  } else {
    await rm(listen.socketPath, { force: true });
    await app.listen({ path: listen.socketPath });
    await chmod(listen.socketPath, listen.socketMode ?? 0o600);
    address = `unix:${listen.socketPath}`;
  }

  return {
    address,
    enrol: (session, o) => service.enrol(session, o),
    async close() {
      draining = true;
      /* Postcondition: orders that were accepted before shutdown finish before the process closes. */
      const deadline = Date.now() + (options.requestTimeoutMs ?? 30_000);
      while (service.inflightOrders > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await app.close();
      if (!tcp) await rm(listen.socketPath, { force: true });
    },
  };
}
