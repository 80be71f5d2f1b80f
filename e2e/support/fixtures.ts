/**
 * Export fixtures made with the library itself: an AuditLog over the memory store with Merkle tree
 * nodes, JSON Lines and CSV exports, checkpoints signed by a LocalEd25519Signer through the
 * TransparencyLog, a witness cosignature and a receipt.
 */

import {
  type AppendEntryInput,
  AuditLog,
  createMemoryAuditStore,
  exportChain,
  userChainId,
} from "../../src/audit/index.js";
import { TransparencyLog } from "../../src/audit/transparency/log.js";
import { parseNote } from "../../src/audit/transparency/note.js";
import { LocalEd25519Signer, type Signer } from "../../src/audit/transparency/signer.js";
import { createCosigner } from "../../src/audit/transparency/witness.js";
import { canonicalize } from "../../src/canonical.js";
import { hostIdentity, runAs } from "../../src/guard/index.js";

const EXCHANGES = ["binance", "kraken", "coinbase"];
const SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDC"];

/** The i-th entry of the synthetic trading history. */
export function sampleInput(i: number): AppendEntryInput {
  const exchange = EXCHANGES[i % 3] as string;
  const symbol = SYMBOLS[(i >> 1) % 3] as string;
  switch (i % 7) {
    case 0:
      return { action: "key.onboarded", payload: { credentialId: `cred-${i}`, exchange } };
    case 3:
      return { action: "order.canceled", payload: { exchange, symbol, orderId: `o-${i - 1}` } };
    case 5:
      return { action: "parameter.changed", payload: { name: "maxOrderUsd", from: 500, to: 750 } };
    default:
      return {
        action: "order.placed",
        payload: {
          exchange,
          symbol,
          side: i % 2 ? "buy" : "sell",
          type: "limit",
          amount: `0.${(i % 97) + 1}`,
          price: `${64000 + (i % 500)}.25`,
          orderId: `o-${i}`,
        },
      };
  }
}

/**
 * A transparency-enabled log for alice's chain; `append(from, to)` adds entries `from … to - 1`
 * of {@link sampleInput}, one every `stepMs` from a fixed start.
 */
export async function buildHistory(stepMs = 47 * 60_000) {
  const store = createMemoryAuditStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const transparency = new TransparencyLog({ store, signer, logName: "audit.example.com" });
  let t = Date.parse("2026-11-01T08:00:00.000Z");
  const log = new AuditLog({
    store,
    treeNodes: transparency.treeNodes,
    clock: () => {
      t += stepMs;
      return new Date(t);
    },
  });
  const chainId = userChainId("alice");
  const append = (from: number, to: number) =>
    runAs(hostIdentity("alice"), async () => {
      for (let i = from; i < to; i += 10_000) {
        const n = Math.min(10_000, to - i);
        await log.appendEntries(
          chainId,
          Array.from({ length: n }, (_, k) => sampleInput(i + k)),
        );
      }
    });
  return { store, signer, transparency, log, chainId, append };
}

/** The whole export as text; with `signer`, its manifest is signed. */
export async function exportText(
  log: AuditLog,
  chainId: string,
  format: "jsonl" | "csv",
  signer?: Signer,
) {
  let out = "";
  for await (const chunk of exportChain(log, chainId, signer ? { format, signer } : { format }))
    out += chunk;
  return out;
}

/** Adds a witness cosignature to a checkpoint note; returns the note and the witness key. */
export async function cosign(note: string): Promise<{ note: string; witnessKey: string }> {
  const { signer } = LocalEd25519Signer.generate("witness.example.org");
  const cosigner = createCosigner(signer);
  const line = await cosigner.cosign(parseNote(note).text, Math.floor(Date.now() / 1000) - 60);
  return { note: note + line, witnessKey: cosigner.verifierKey };
}

/**
 * Cuts the last `drop` entries off a JSON Lines export and rewrites its manifest to match, as an
 * operator hiding recent entries would: the file verifies on its own.
 */
export function truncateJsonl(text: string, drop: number): string {
  const lines = text.trimEnd().split("\n");
  const kept = lines.slice(1, lines.length - drop);
  const last = JSON.parse(kept[kept.length - 1] as string) as { hash: string };
  const manifest = JSON.parse(lines[0] as string) as { manifest: Record<string, unknown> };
  const rewritten = canonicalize({
    manifest: { ...manifest.manifest, size: kept.length, headHash: last.hash },
  });
  return `${[rewritten, ...kept].join("\n")}\n`;
}

/** Changes the timestamp of entry `seq` in a JSON Lines export (keeps the line canonical). */
export function tamperJsonl(text: string, seq: number): string {
  const lines = text.split("\n");
  const i = seq + 1;
  lines[i] = (lines[i] as string).replace(
    /"ts":"(\d{4})-/,
    (_m, y: string) => `"ts":"${Number(y) - 1}-`,
  );
  return lines.join("\n");
}
