import { describe, expect, it } from "vitest";
import {
  exportChainFor,
  OPERATOR_CHAIN_ID,
  readChainEntries,
  verifyChainFor,
} from "../../../src/audit/index.js";
import { isKeywardenError, NOT_FOUND_MESSAGE } from "../../../src/errors.js";
import { hostIdentity, operatorIdentity, runAs } from "../../../src/guard/index.js";
import { sampleLog } from "../helpers.js";

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

describe("who may read which chain", () => {
  it("a user's chain is read only by that user's session or host identity", async () => {
    const { log, chainId } = await sampleLog(2, "alice");
    expect(await runAs(hostIdentity("alice"), () => drain(readChainEntries(log, chainId)))).toBe(2);
    expect(
      await runAs(hostIdentity("alice"), () =>
        drain(exportChainFor(log, chainId, { format: "jsonl" })),
      ),
    ).toBe(3);
    expect(await runAs(hostIdentity("alice"), () => verifyChainFor(log, chainId))).toMatchObject({
      ok: true,
    });
    for (const who of [hostIdentity("mallory"), operatorIdentity("ops-1")]) {
      for (const attempt of [
        () => drain(readChainEntries(log, chainId)),
        () => drain(exportChainFor(log, chainId, { format: "csv" })),
        () => verifyChainFor(log, chainId),
      ]) {
        const err = await runAs(who, async () => attempt()).catch((e: unknown) => e);
        expect(isKeywardenError(err, "ERR_GUARD_NOT_FOUND")).toBe(true);
        expect((err as Error).message).toBe(NOT_FOUND_MESSAGE); // same as a chain that does not exist
      }
    }
  });

  it("the operator chain is read only by operators", async () => {
    const { log } = await sampleLog(0);
    await runAs(operatorIdentity("ops-1"), () =>
      log.recordOperatorAction("keystore.initialized", { kms: "local" }),
    );
    expect(
      await runAs(operatorIdentity("ops-2"), () => drain(readChainEntries(log, OPERATOR_CHAIN_ID))),
    ).toBe(1);
    const err = await runAs(hostIdentity("alice"), async () =>
      drain(readChainEntries(log, OPERATOR_CHAIN_ID)),
    ).catch((e: unknown) => e);
    expect(isKeywardenError(err, "ERR_GUARD_NOT_FOUND")).toBe(true);
  });

  it("without an identity nothing is readable", async () => {
    const { log, chainId } = await sampleLog(1);
    expect(() => readChainEntries(log, chainId)).toThrow(
      expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
    );
  });
});
