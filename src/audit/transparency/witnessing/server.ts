/**
 * `keywarden witness serve`'s server: the tlog-witness `add-checkpoint` endpoint over node:http,
 * bound to 127.0.0.1 unless told otherwise (put a TLS proxy or bastion in front for the Internet).
 * Only `POST <prefix>/add-checkpoint`; bodies above the limit are refused with 413 without being
 * buffered; slow requests time out.
 *
 * @packageDocumentation
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { NoteVerifier } from "../note.js";
import type { Cosigner, WitnessStateStore } from "../witness.js";
import { handleAddCheckpoint, MAX_ADD_CHECKPOINT_BYTES } from "./protocol.js";

/** Options of {@link startWitnessServer}. */
export interface WitnessServerOptions {
  readonly logs: Readonly<Record<string, readonly NoteVerifier[]>>;
  readonly state: WitnessStateStore;
  readonly cosigner: Cosigner;
  /** Listen address (default 127.0.0.1) and port (default 0: any free port). */
  readonly host?: string;
  readonly port?: number;
  /** URL path prefix (default ""), e.g. "/witness". */
  readonly prefix?: string;
  /** Largest accepted request body (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Request timeout in ms (default 10 s). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** A running witness server. */
export interface RunningWitnessServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

class TooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      reject(new TooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        reject(new TooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * Starts a witness server.
 *
 * @example
 * ```ts
 * const w = await startWitnessServer({ logs: { [origin]: [logKey] }, state, cosigner });
 * const witnessUrl = w.url; // http://127.0.0.1:PORT, for the log's witness configuration
 * await w.close();
 * ```
 * @throws {Error} when the address cannot be bound.
 */
export async function startWitnessServer(
  options: WitnessServerOptions,
): Promise<RunningWitnessServer> {
  const limit = options.maxBodyBytes ?? MAX_ADD_CHECKPOINT_BYTES;
  const path = `${options.prefix ?? ""}/add-checkpoint`;
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url !== path) return send(404, "text/plain; charset=utf-8", "not found\n");
    if (req.method !== "POST")
      return send(405, "text/plain; charset=utf-8", "method not allowed\n");
    readBody(req, limit)
      .then(
        async (buf) => {
          let body: string;
          try {
            body = new TextDecoder("utf-8", { fatal: true }).decode(buf);
          } catch {
            return send(400, "text/plain; charset=utf-8", "request is not UTF-8\n");
          }
          const r = await handleAddCheckpoint(body, options);
          send(r.status, r.contentType, r.body);
        },
        (err: unknown) => {
          if (err instanceof TooLarge) {
            res.setHeader("connection", "close");
            send(413, "text/plain; charset=utf-8", "request too large\n");
          } else if (!res.headersSent) send(400, "text/plain; charset=utf-8", "bad request\n");
        },
      )
      .catch(() => {
        if (!res.headersSent) send(500, "text/plain; charset=utf-8", "internal error\n");
      });
  });
  server.requestTimeout = options.timeoutMs ?? 10_000;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}${options.prefix ?? ""}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
