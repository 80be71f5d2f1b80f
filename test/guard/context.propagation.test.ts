import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  currentIdentity,
  hostIdentity,
  requireIdentity,
  runAs,
  runAsNobody,
} from "../../src/guard/index.js";

describe("identity context", () => {
  it("propagates across await, timers, promise callbacks and queueMicrotask", async () => {
    const a = hostIdentity("user-a");
    const seen = await runAs(a, async () => {
      const out: (string | undefined)[] = [];
      await sleep(1);
      out.push(currentIdentity()?.userId);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          out.push(currentIdentity()?.userId);
          resolve();
        }, 1),
      );
      await new Promise<void>((resolve) =>
        queueMicrotask(() => {
          out.push(currentIdentity()?.userId);
          resolve();
        }),
      );
      await Promise.resolve().then(() => out.push(currentIdentity()?.userId));
      return out;
    });
    expect(seen).toEqual(["user-a", "user-a", "user-a", "user-a"]);
    expect(currentIdentity()).toBeUndefined();
  });

  it("nested runAs replaces the identity for its own extent only", async () => {
    const a = hostIdentity("user-a");
    const b = hostIdentity("user-b");
    await runAs(a, async () => {
      const inner = runAs(b, async () => {
        await sleep(2);
        return requireIdentity().userId;
      });
      expect(requireIdentity().userId).toBe("user-a");
      expect(await inner).toBe("user-b");
      expect(requireIdentity().userId).toBe("user-a");
    });
  });

  it("concurrent call chains never see each other's identity", async () => {
    const users = Array.from({ length: 20 }, (_, i) => hostIdentity(`user-${i}`));
    const results = await Promise.all(
      users.map((u, i) =>
        runAs(u, async () => {
          await sleep((i * 7) % 5);
          const first = requireIdentity().userId;
          await sleep((i * 3) % 4);
          return [first, requireIdentity().userId];
        }),
      ),
    );
    results.forEach(([x, y], i) => {
      expect(x).toBe(`user-${i}`);
      expect(y).toBe(`user-${i}`);
    });
  });

  it("runAsNobody drops the identity", async () => {
    await runAs(hostIdentity("user-a"), async () => {
      await runAsNobody(async () => {
        await sleep(1);
        expect(currentIdentity()).toBeUndefined();
      });
      expect(currentIdentity()?.userId).toBe("user-a");
    });
  });

  it("requireIdentity throws outside runAs", () => {
    expect(() => requireIdentity()).toThrow(
      expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED", message: "no valid identity" }),
    );
  });
});
