import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadCcxtExchange } from "../../src/ccxt-loader.js";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { Secret } from "../../src/secret.js";

/** An answer server for POST https://api.hyperliquid.xyz/info, recording what ccxt sent. */
function infoServer(roleOf: (user: string) => unknown) {
  const seen: { url: string; method: string; body: unknown }[] = [];
  const fetchImplementation = async (url: string, init: { method?: string; body?: unknown }) => {
    const body = JSON.parse(String(init.body)) as { type: string; user: string };
    seen.push({ url, method: init.method ?? "GET", body });
    return new Response(JSON.stringify(roleOf(body.user)), {
      headers: { "content-type": "application/json" },
    });
  };
  return { seen, fetchImplementation };
}

async function addressOf(privateKey: string): Promise<string> {
  const Hl = (await loadCcxtExchange("hyperliquid")) as unknown as new (
    c: object,
  ) => { ethGetAddressFromPrivateKey: (k: string) => string };
  return new Hl({}).ethGetAddressFromPrivateKey(privateKey);
}

describe("hyperliquid end to end through the ccxt binding", () => {
  const master = `0x${randomBytes(20).toString("hex")}`;
  const agentKey = `0x${randomBytes(32).toString("hex")}`;

  it("asks userRole about the address derived from the held key and accepts its agent: trade, no withdraw, no transfer", async () => {
    const agent = await addressOf(agentKey);
    const server = infoServer((user) =>
      user.toLowerCase() === agent.toLowerCase()
        ? { role: "agent", data: { user: master } }
        : { role: "missing" },
    );
    const detect = createCcxtDetector({ fetchImplementation: server.fetchImplementation });
    const result = await detect({
      exchange: "hyperliquid",
      credentials: { apiKey: master, secret: Secret.fromString(agentKey) },
    });
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]?.url).toBe("https://api.hyperliquid.xyz/info");
    expect(server.seen[0]?.body).toEqual({ type: "userRole", user: agent });
    expect(result.ok && { ...result.permissions }).toMatchObject({
      trade: true,
      withdraw: false,
      transfer: false,
    });
    expect(JSON.stringify(result)).not.toContain(agentKey.slice(2));
  });

  it("the master's own private key reads as role user: withdraw and transfer", async () => {
    const masterKey = `0x${randomBytes(32).toString("hex")}`;
    const masterAddress = await addressOf(masterKey);
    const server = infoServer(() => ({ role: "user" }));
    const detect = createCcxtDetector({ fetchImplementation: server.fetchImplementation });
    const result = await detect({
      exchange: "hyperliquid",
      credentials: { apiKey: masterAddress, secret: Secret.fromString(masterKey) },
    });
    expect(server.seen[0]?.body).toEqual({ type: "userRole", user: masterAddress });
    expect(result.ok && result.permissions.withdraw).toBe(true);
    expect(result.ok && result.permissions.transfer).toBe(true);
  });

  it("a secret that is not a private key: no call, PERMISSION_UNKNOWN", async () => {
    const server = infoServer(() => ({ role: "agent", data: { user: master } }));
    const detect = createCcxtDetector({ fetchImplementation: server.fetchImplementation });
    const result = await detect({
      exchange: "hyperliquid",
      credentials: { apiKey: master, secret: Secret.fromString("not-a-key") },
    });
    expect(server.seen).toHaveLength(0);
    expect(result.ok ? "accepted" : result.findings[0]?.code).toBe("PERMISSION_UNKNOWN");
  });
});
