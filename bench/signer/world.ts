/**
 * What the signer bench's processes share: the simulated key, and the vault + audit + trading
 * client that both the signer process and a bot's in-process baseline build against the one
 * exchange simulator (run in its own process, reached over loopback HTTP).
 */
import { AuditLog } from "../../src/audit/core/log.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import type { Identity } from "../../src/guard/identity.js";
import { ccxtOptionsFor } from "../../src/permissions/testing/ccxt-pointing.js";
import { ccxtExchangeFactory } from "../../src/trading/ccxt.js";
import { createTradingClient } from "../../src/trading/client.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { localKms, makeIdp } from "../../test/vault/helpers.js";

/** The one key registered on the simulator (a bench key, not a secret of anyone's). */
export const BENCH_KEY = { apiKey: "bench-key", secret: "bench-secret-0123456789abcdef" } as const;

/** One order, the same in both modes: a small resting limit buy. */
export const ORDER = ["BTC/USDT", "limit", "buy", 0.001, 50000] as const;

/** Messages between the orchestrator and its children (IPC, JSON). */
export type ChildMessage =
  | { type: "ready"; info: Record<string, unknown> }
  | { type: "done"; id: number; result: unknown }
  | { type: "failed"; id: number; error: string };

/** A vault holding the bench key for one user, the trading client over it, and a live session. */
export async function tradingWorld(simBaseUrl: string) {
  const idp = await makeIdp();
  const alice: Identity = await idp.session("alice", 7200);
  const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
  const audit = new AuditLog({ store: createMemoryAuditStore() });
  const state = createMemoryTradingState();
  const trading = createTradingClient({
    vault,
    audit,
    state,
    // ccxt's throttler stays on (keywarden forces it) but is set far above the offered rate: it
    // models the real exchange's per-IP limit, which the simulator does not have. Left at
    // binance's default it caps one process at about 100 orders/s, and the signer (one process,
    // one throttler per exchange shared by all its users) would be compared with 4 bot processes
    // holding 4 throttlers.
    exchanges: ccxtExchangeFactory({
      config: () => ({ ...ccxtOptionsFor(simBaseUrl, "binance"), rateLimit: 1 }),
    }),
  });
  const credentialId = (
    await vault.store(alice, { exchange: "binance", credentials: { ...BENCH_KEY } })
  ).credentialId;
  return { alice, vault, audit, state, trading, credentialId };
}

/** Answers the orchestrator's `{ id, cmd, ... }` messages with `done`/`failed`. */
export function serveCommands(handlers: Record<string, (msg: Record<string, unknown>) => unknown>) {
  process.on("message", (raw) => {
    const msg = raw as { id: number; cmd: string } & Record<string, unknown>;
    const run = handlers[msg.cmd];
    Promise.resolve()
      .then(() => {
        if (!run) throw new Error(`unknown command ${msg.cmd}`);
        return run(msg);
      })
      .then(
        (result) => process.send?.({ type: "done", id: msg.id, result }),
        (err: unknown) =>
          process.send?.({
            type: "failed",
            id: msg.id,
            error: `${(err as { code?: string }).code ?? ""} ${(err as Error).message}`,
          }),
      );
  });
  // The orchestrator going away ends the child.
  process.on("disconnect", () => process.exit(0));
}
