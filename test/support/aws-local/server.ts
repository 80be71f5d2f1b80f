/**
 * The HTTP front door: reads each request and routes it to KMS (`X-Amz-Target: TrentService.*`)
 * or STS (Query protocol). Never writes to the console.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ServerContext, send } from "./exchange.js";
import { handleKms } from "./kms-endpoint.js";
import type { WireRequest } from "./sigv4.js";
import { handleSts } from "./sts-endpoint.js";

export type { ServerContext } from "./exchange.js";

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Handles one HTTP request; never throws (unexpected failures become a 500 without details). */
export async function handleRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(req);
    if (body === undefined) {
      send(res, 413, "text/plain", "Request entity too large", requestId);
      req.socket.destroy();
      return;
    }
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const wire: WireRequest = {
      method: req.method ?? "GET",
      path: q < 0 ? rawUrl : rawUrl.slice(0, q),
      query: q < 0 ? "" : rawUrl.slice(q + 1),
      rawHeaders: req.rawHeaders,
      body,
    };
    const target = req.headers["x-amz-target"];
    if (typeof target === "string") {
      await handleKms(ctx, wire, target, req, res, requestId);
    } else {
      await handleSts(ctx, wire, req, res, requestId);
    }
  } catch {
    send(res, 500, "text/plain", "Internal server error", requestId);
  }
}
