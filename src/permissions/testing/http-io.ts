import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimResponse } from "./exchange-spec.js";
import { SIMULATED_EXCHANGES, type SimulatedExchangeId } from "./types.js";

const MAX_BODY_BYTES = 1 << 20;

/** `/<exchange>/<host>/<path>?<query>` → its parts; undefined for anything else. */
export function parseTarget(
  rawUrl: string,
): { exchange: SimulatedExchangeId; host: string; path: string; query: string } | undefined {
  const q = rawUrl.indexOf("?");
  const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? "" : rawUrl.slice(q + 1);
  const match = /^\/([a-z]+)\/([A-Za-z0-9.-]+)(\/.*)?$/.exec(pathname);
  if (match === null) return undefined;
  const exchange = SIMULATED_EXCHANGES.find((id) => id === match[1]);
  if (exchange === undefined) return undefined;
  return { exchange, host: match[2] as string, path: match[3] ?? "/", query };
}

export function lowerHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export function remoteAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function send(res: ServerResponse, response: SimResponse): void {
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  const type = /^\s*[[{]/.test(text) ? "application/json" : "text/plain";
  res.writeHead(response.status, {
    "content-type": type,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
