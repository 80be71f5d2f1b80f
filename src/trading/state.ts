import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { KeywardenError } from "../errors.js";
import { assertUserId } from "../guard/identity.js";

/** A user's kill-switch state. */
export interface KillSwitchState {
  /** True while order calls are blocked. */
  readonly active: boolean;
  /** Why it was fired (free text from the host or operator; never secret). */
  readonly reason: string | null;
  /** Who changed it last: a user id, `operator:<id>` or `system`. */
  readonly changedBy: string | null;
  /** ISO-8601 UTC time of the last change. */
  readonly changedAt: string | null;
}

/** The state of a user whose switch was never fired. */
export const KILL_SWITCH_OFF: KillSwitchState = Object.freeze({
  active: false,
  reason: null,
  changedBy: null,
  changedAt: null,
});

const stateSchema = z
  .object({
    active: z.boolean(),
    reason: z.string().max(1000).nullable(),
    changedBy: z.string().max(300).nullable(),
    changedAt: z.string().max(40).nullable(),
  })
  .strict();

/**
 * Where kill-switch state lives. It must be persistent (a restart must not release a fired switch)
 * and shared by every process that places orders for the user. keywarden treats any error from
 * {@link TradingStateStore.get} as "switch active": when the state cannot be read, no order is sent.
 */
export interface TradingStateStore {
  /** The user's current state; {@link KILL_SWITCH_OFF} when never set. */
  get(userId: string): Promise<KillSwitchState>;
  /** Durably replaces the user's state. */
  set(userId: string, state: KillSwitchState): Promise<void>;
  /** Every user whose switch is active (for operators and the emergency path). */
  listActive(): Promise<string[]>;
}

/** In-memory state: for tests and single-process demos only (lost on restart). */
export function createMemoryTradingState(): TradingStateStore {
  const states = new Map<string, KillSwitchState>();
  return {
    async get(userId) {
      assertUserId(userId);
      return states.get(userId) ?? KILL_SWITCH_OFF;
    },
    async set(userId, state) {
      assertUserId(userId);
      states.set(userId, Object.freeze(stateSchema.parse(state)));
    },
    async listActive() {
      return [...states].filter(([, s]) => s.active).map(([u]) => u);
    },
  };
}

/**
 * File-backed state: one JSON file per user in `dir`, written atomically (temp file, fsync,
 * rename, fsync of the directory), mode 0600.
 *
 * @throws {KeywardenError} `ERR_TRADING_STATE_UNAVAILABLE` from `get` when a file is unreadable or
 * corrupt — which the trading handle treats as an active switch.
 */
export function createFileTradingState(dir: string): TradingStateStore {
  const file = (userId: string) => {
    assertUserId(userId);
    return join(dir, `${Buffer.from(userId).toString("hex")}.killswitch.json`);
  };
  const unavailable = (cause: unknown) =>
    new KeywardenError("ERR_TRADING_STATE_UNAVAILABLE", "kill-switch state cannot be read", {
      cause,
    });
  return {
    async get(userId) {
      let text: string;
      try {
        text = await readFile(file(userId), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return KILL_SWITCH_OFF;
        throw unavailable(err);
      }
      const parsed = stateSchema.safeParse(
        (() => {
          try {
            return JSON.parse(text);
          } catch {
            return undefined;
          }
        })(),
      );
      if (!parsed.success) throw unavailable(undefined);
      return Object.freeze(parsed.data);
    },
    async set(userId, state) {
      const target = file(userId);
      const body = `${JSON.stringify(stateSchema.parse(state))}\n`;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    },
    async listActive() {
      const { readdir } = await import("node:fs/promises");
      const names = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
        n.endsWith(".killswitch.json"),
      );
      const out: string[] = [];
      for (const n of names) {
        const userId = Buffer.from(n.slice(0, -".killswitch.json".length), "hex").toString();
        const s = await this.get(userId).catch(() => ({ active: true }) as KillSwitchState);
        if (s.active) out.push(userId);
      }
      return out;
    },
  };
}
