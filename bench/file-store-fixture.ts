/**
 * Writes a JSONL file store in bulk: the exact bytes `openFileAuditStore(path).append()` writes for
 * one-entry appends carrying an idempotency key and the tree nodes `TransparencyLog.treeNodes`
 * computes (test/audit/storage/file-store.index.test.ts compares the two byte for byte), but
 * streamed without fsyncs, so a 10M-entry store takes minutes instead of hours. No index is written:
 * the store builds it on first open, as for a file written before the index existed.
 */
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { GENESIS_PREV_HASH } from "../src/audit/index.js";
import { appendLineText, payloadLineText } from "../src/audit/storage/file/lines.js";
import { fixtureEntries } from "../src/audit/testing/fixtures.js";
import { MerkleFrontier } from "../src/audit/transparency/merkle.js";

const CHUNK = 4096;

/** The idempotency key the fixture gives entry `seq`. */
export const fixtureKey = (seq: number): string => `fixture-key-${seq}`;

async function put(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

/** Writes `total` one-entry batches of `chainId` to `path` and `path.payloads`; returns the head hash. */
export async function writeFileStoreFixture(
  path: string,
  chainId: string,
  total: number,
): Promise<string | null> {
  const main = createWriteStream(path, { mode: 0o600 });
  const side = createWriteStream(`${path}.payloads`, { mode: 0o600 });
  const frontier = new MerkleFrontier();
  let prev = GENESIS_PREV_HASH;
  let head: string | null = null;
  for (let first = 0; first < total; first += CHUNK) {
    const batch = fixtureEntries(chainId, first, Math.min(CHUNK, total - first), prev);
    let mainText = "";
    let sideText = "";
    for (const e of batch) {
      const entry = { ...e, idempotencyKey: fixtureKey(e.seq) };
      const nodes = frontier.append(Buffer.from(e.hash, "hex"));
      sideText += payloadLineText(chainId, e.seq, entry);
      mainText += appendLineText(chainId, e.seq, [entry], nodes);
      head = e.hash;
    }
    prev = head ?? prev;
    await put(side, sideText);
    await put(main, mainText);
  }
  side.end();
  main.end();
  await Promise.all([once(side, "close"), once(main, "close")]);
  return head;
}
