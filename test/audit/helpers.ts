import {
  AuditLog,
  createMemoryAuditStore,
  exportChain,
  userChainId,
} from "../../src/audit/index.js";
import { hostIdentity, runAs } from "../../src/guard/index.js";

/** A memory-store log with `count` entries on user `userId`'s chain, some payloads erased. */
export async function sampleLog(
  count: number,
  userId = "alice",
  erase: number[] = [],
): Promise<{ log: AuditLog; chainId: string }> {
  const log = new AuditLog({ store: createMemoryAuditStore() });
  const chainId = userChainId(userId);
  await runAs(hostIdentity(userId), async () => {
    for (let i = 0; i < count; i++) {
      await log.appendEntry(chainId, {
        action: i % 2 ? "order.placed" : "parameter.changed",
        payload:
          i % 2
            ? {
                exchange: "binance",
                symbol: "BTC/USDT",
                side: "buy",
                type: "limit",
                amount: `0.${i + 1}`,
                price: "64250.10",
              }
            : { name: `=cmd|' /C calc'!A${i}`, to: { note: 'ünïcødé \u2028 "q" ,;' } },
      });
    }
  });
  for (const seq of erase) await log.erasePayload(chainId, seq);
  return { log, chainId };
}

/** The whole export as one string. */
export async function exportText(
  log: AuditLog,
  chainId: string,
  format: "jsonl" | "csv",
): Promise<string> {
  let out = "";
  for await (const chunk of exportChain(log, chainId, { format })) out += chunk;
  return out;
}
