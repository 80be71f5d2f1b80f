import { describe, expect, it } from "vitest";
import { runDetection } from "../../src/permissions/detect.js";
import { hyperliquid } from "../../src/permissions/exchanges/hyperliquid.js";
import { expectFixture, loadFixtures, parseFixture } from "./support/exchange-fixtures.js";

const fixtures = loadFixtures("hyperliquid");
const MASTER = "0x31ca8395cf837de08b24da3f660e77761dfb974b";
const AGENT = "0x286edfa08c04f6899dab3bfdecf2dd133f9733b9";

describe("hyperliquid parser against its fixtures", () => {
  it("has the four required cases", () => {
    const names = fixtures.map((f) => f.name);
    for (const c of ["trade-only", "withdraw", "transfer", "read-only"]) expect(names).toContain(c);
  });
  for (const f of fixtures) {
    it(`${f.name}: ${f.description}`, () => {
      expectFixture(f, parseFixture(hyperliquid, f));
    });
  }
});

describe("hyperliquid rules", () => {
  it("Precondition: the role is asked about the address derived from the held private key, never a claimed one", () => {
    const withSigner = hyperliquid.plan({ apiKey: MASTER, signer: AGENT } as never);
    expect(withSigner[0]?.params([])).toEqual({ type: "userRole", user: AGENT });
    const without = hyperliquid.plan({ apiKey: MASTER });
    const aborted = without[0]?.params([]) as { ok?: boolean; findings?: { code: string }[] };
    expect(aborted.ok).toBe(false);
    expect(aborted.findings?.[0]?.code).toBe("PERMISSION_UNKNOWN");
    const bad = hyperliquid.plan({ apiKey: MASTER, signer: "not-an-address" } as never);
    expect((bad[0]?.params([]) as { ok?: boolean } | undefined)?.ok).toBe(false);
  });

  it("Precondition: an agent is accepted only for the account the key is used for", () => {
    const mine = hyperliquid.parse(
      [{ role: "agent", data: { user: MASTER.toUpperCase().replace("0X", "0x") } }],
      {
        apiKey: MASTER,
        signer: AGENT,
      } as never,
    );
    expect(mine.ok && mine.permissions.withdraw).toBe(false);
    const theirs = hyperliquid.parse([{ role: "agent", data: { user: AGENT } }], {
      apiKey: MASTER,
      signer: AGENT,
    } as never);
    expect(theirs.ok && theirs.permissions.withdraw).toBe("unknown");
    const noData = hyperliquid.parse([{ role: "agent" }], {
      apiKey: MASTER,
      signer: AGENT,
    } as never);
    expect(noData.ok && noData.permissions.transfer).toBe("unknown");
  });

  it("without a signer the detector makes no call and reports PERMISSION_UNKNOWN", async () => {
    let calls = 0;
    const result = await runDetection(
      "hyperliquid",
      { apiKey: MASTER },
      async () => {
        calls += 1;
        return { ok: true, body: { role: "agent", data: { user: MASTER } } };
      },
      {},
    );
    expect(calls).toBe(0);
    expect(result.ok ? "accepted" : result.findings[0]?.code).toBe("PERMISSION_UNKNOWN");
  });

  it("with a signer it makes exactly one read-only call", async () => {
    const seen: string[] = [];
    const result = await runDetection(
      "hyperliquid",
      { apiKey: MASTER, signer: AGENT } as never,
      async (method) => {
        seen.push(method);
        return { ok: true, body: { role: "agent", data: { user: MASTER } } };
      },
      {},
    );
    expect(seen).toEqual(["publicPostInfo"]);
    expect(result.ok && result.permissions.trade).toBe(true);
  });
});
