/**
 * The page's memory of heads receipts (issue #20): per heads-log origin and chain, the chain sizes
 * and roots the user has verified, kept in the browser's localStorage so that a later visit notices
 * a fork (two roots for one chain size) or a chain that shrinks. The rule is the library's
 * `observeHead` (src/audit/transparency/heads/state.ts), shared with the CLI; this file only stores
 * its JSON state and names the outcome. Nothing secret is stored: the chain is identified by its
 * size-0 chain tag (an HMAC of the chain key), never by the key.
 */
import { fromHex } from "../../../src/audit/primitives/portable.js";
import {
  type HeadsChainState,
  MAX_SEEN,
  observeHead,
} from "../../../src/audit/transparency/portable.js";
import type { Verdict } from "./engine.js";
import type { HeadsFinding } from "./heads.js";

/** The localStorage key; one JSON object maps `origin \n chainId` to a {@link HeadsChainState}. */
export const MEMORY_KEY = "keywarden-verifier/heads-memory/v1";

/**
 * `first`: nothing remembered for this chain before, now remembered. `consistent`: agrees with
 * what was remembered. `fork` / `shrink`: the library's findings (the state is not updated).
 * `off`: the browser refuses storage. `reset`: the stored memory was unreadable and was replaced.
 */
export type MemoryStatus = "first" | "consistent" | "fork" | "shrink" | "off" | "reset";

export interface MemoryFinding {
  readonly status: MemoryStatus;
  /** How many (size, root) pairs are remembered for this chain after this check. */
  readonly remembered: number;
  /** For `fork` / `shrink` / `consistent`: the latest remembered chain size. */
  readonly rememberedSize?: number;
  readonly size: number;
}

type Memory = Record<string, HeadsChainState>;

/** The part of the Web Storage API this file uses (declared here so Node-side type checks need no DOM lib). */
interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function storage(): KeyValueStorage | undefined {
  try {
    return (globalThis as { localStorage?: KeyValueStorage }).localStorage;
  } catch {
    return undefined;
  }
}

function isState(v: unknown): v is HeadsChainState {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  const idx = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const hex = (h: unknown) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h);
  return (
    idx(s.headsIndex) &&
    idx(s.size) &&
    hex(s.rootHash) &&
    Array.isArray(s.seen) &&
    s.seen.length <= MAX_SEEN &&
    s.seen.every((p) => Array.isArray(p) && p.length === 2 && idx(p[0]) && hex(p[1]))
  );
}

/** The stored memory, or `undefined` when it is unreadable (fail closed: the caller says so). */
function load(store: KeyValueStorage): Memory | undefined {
  const text = store.getItem(MEMORY_KEY);
  if (text === null) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    const out: Memory = {};
    for (const [k, s] of Object.entries(v)) {
      if (!isState(s)) return undefined;
      out[k] = s;
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Folds a heads finding into the memory. Only a record that verified and agrees with the user's
 * history (`matches`, `covers-prefix`) is an observation; otherwise `undefined`.
 */
export function rememberHeads(h: HeadsFinding | undefined): MemoryFinding | undefined {
  if (!h || (h.status !== "matches" && h.status !== "covers-prefix")) return undefined;
  const { headsOrigin, headsIndex, chainSize, chainId, chainRoot } = h;
  if (
    headsOrigin === undefined ||
    headsIndex === undefined ||
    chainSize === undefined ||
    chainId === undefined ||
    chainRoot === undefined
  )
    return undefined;
  const rootHash = fromHex(chainRoot);
  if (rootHash === undefined) return undefined;
  const store = storage();
  if (!store) return { status: "off", remembered: 0, size: chainSize };
  const loaded = load(store);
  const memory = loaded ?? {};
  const key = `${headsOrigin}\n${chainId}`;
  const before = memory[key];
  const r = observeHead(before, { headsIndex, size: chainSize, rootHash });
  if (!r.ok)
    return {
      status: r.finding,
      remembered: r.state.seen.length,
      rememberedSize: r.state.size,
      size: chainSize,
    };
  memory[key] = r.state;
  try {
    store.setItem(MEMORY_KEY, JSON.stringify(memory));
  } catch {
    return { status: "off", remembered: 0, size: chainSize };
  }
  const status: MemoryStatus =
    loaded === undefined ? "reset" : before === undefined ? "first" : "consistent";
  return {
    status,
    remembered: r.state.seen.length,
    ...(before === undefined ? {} : { rememberedSize: before.size }),
    size: chainSize,
  };
}

/** Forgets everything the page remembered; true when something was removed. */
export function forgetHeads(): boolean {
  const store = storage();
  if (!store) return false;
  const had = store.getItem(MEMORY_KEY) !== null;
  store.removeItem(MEMORY_KEY);
  return had;
}

/** How many chains the page remembers (0 when storage is off or unreadable). */
export function rememberedChains(): number {
  const store = storage();
  const m = store ? load(store) : undefined;
  return m ? Object.keys(m).length : 0;
}

/** The plain-words sentence for a memory finding. */
export function memoryText(m: MemoryFinding): string {
  const keep =
    "This page remembers, in this browser only, the sizes and summaries of your history it has verified through the heads log, so that it can notice if you are later shown a different one. Nothing secret is stored; use \u201cForget\u201d to erase it.";
  switch (m.status) {
    case "first":
      return `First time this page sees this account in this heads log: it now remembers your history at ${m.size} entries. ${keep}`;
    case "consistent":
      return `Consistent with what this page saw before (${m.remembered} sizes of your history remembered, the latest ${m.rememberedSize ?? 0} entries). ${keep}`;
    case "reset":
      return `The page's earlier memory in this browser was unreadable and was replaced; it now remembers your history at ${m.size} entries. ${keep}`;
    case "off":
      return "This browser does not let the page remember what it verified, so it cannot compare this heads receipt with earlier ones.";
    case "fork":
      return `FORK: this account's history was shown to you two different ways. Earlier, this page verified a heads receipt recording your history at ${m.size} entries with a different summary than the one now. The platform has shown you (or the public) two different histories. Keep both sets of files: they are the proof. The page keeps remembering the earlier one.`;
    case "shrink":
      return `SHRINK: this account's history got shorter. Earlier, this page verified your history at ${m.rememberedSize ?? 0} entries in the heads log; this receipt records it at ${m.size} entries in a later (or earlier) place, which a history that is only ever appended to cannot do. Entries were removed or the platform shows two histories. Keep both sets of files: they are the proof.`;
  }
}

/** Verdicts under which the file and everything supplied with it checked out (or were not checked). */
const PASSING: ReadonlySet<Verdict> = new Set([
  "valid",
  "valid-prefix",
  "valid-unanchored",
  "not-checked",
]);

/**
 * The page's verdict once what this browser remembers is taken into account (memory.ts): a fork
 * or a shrink against a receipt verified earlier turns a passing verdict into
 * `inconsistent-with-memory`, since the history checks out on its own but not against what was
 * seen before. A failing verdict stays as it is (it already says the history is not to be trusted,
 * and more precisely); any other memory finding changes nothing.
 *
 * @example
 * ```ts
 * verdictWithMemory("valid", "fork"); // "inconsistent-with-memory"
 * verdictWithMemory("valid", "consistent"); // "valid"
 * ```
 * @throws never.
 */
export function verdictWithMemory(verdict: Verdict, memory: string | undefined): Verdict {
  const alarm = memory === "fork" || memory === "shrink";
  return alarm && PASSING.has(verdict) ? "inconsistent-with-memory" : verdict;
}
