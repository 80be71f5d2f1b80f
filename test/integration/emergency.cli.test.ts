import { mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userChainId } from "../../src/audit/core/entry.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import { openKeywarden } from "../../src/embedded/index.js";
import { runAs } from "../../src/guard/context.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { makeIdp } from "../vault/helpers.js";

function fakeIo(cwd: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c) => {
    out += c;
  });
  stderr.on("data", (c) => {
    err += c;
  });
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd };
  return { io, out: () => out, err: () => err };
}

describe("keywarden emergency revoke-all (embedded data directory)", () => {
  let sim: ExchangeSimulator;
  let dir: string;
  beforeAll(async () => {
    sim = await startExchangeSimulator();
    dir = await mkdtemp(join(tmpdir(), "kw-emergency-"));
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("locks every key, revokes grants and fires kill switches without the master key", async () => {
    const idp = await makeIdp();
    const transport = (ex: string) => ({ ...sim.ccxtOptions(ex as "binance") });
    sim.setKey("binance", {
      apiKey: "em-key",
      secret: "em-secret",
      permissions: { read: true, trade: true, ipRestricted: true },
    });
    let kw = await openKeywarden({ dataDir: dir, exchangeTransport: transport });
    const alice = await idp.session("alice");
    const { credentialId } = await kw.onboardKey(alice, "binance", {
      apiKey: "em-key",
      secret: Secret.fromString("em-secret"),
    });
    const { grant } = await kw.vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade", "cancel"],
      ttlMs: 600_000,
    });
    await kw.close();

    // The master key is not needed: move it out of the data directory for the emergency run.
    await rename(join(dir, "master.key"), join(dir, "..", `${dir.split("/").pop()}.master.key`));
    const { io, out, err } = fakeIo(dir);
    const loaders = {
      emergency: async () => (await import("../../src/cli/emergency.js")).emergency,
    };
    const code = await runCli(
      [
        "emergency",
        "revoke-all",
        "--data-dir",
        ".",
        "--reason",
        "backup exposed",
        "--operator",
        "ops-1",
      ],
      io,
      loaders,
    );
    await rename(join(dir, "..", `${dir.split("/").pop()}.master.key`), join(dir, "master.key"));
    expect(err()).toContain(
      "1 user(s), 1 credential set(s) locked, 1 grant(s) revoked, 0 failure(s)",
    );
    expect(code).toBe(0);
    expect(JSON.parse(out().trim())).toEqual({
      userId: "alice",
      kind: "rotate-keys",
      reason: "backup exposed",
      openOrdersCanceled: false,
    });

    kw = await openKeywarden({ dataDir: dir, exchangeTransport: transport });
    try {
      await expect(
        kw.vault.withCredentials(alice, credentialId, async () => 1),
      ).rejects.toMatchObject({ code: "ERR_VAULT_USER_LOCKED" });
      await expect(
        runAs(grant, () =>
          kw.trading.handle(credentialId).createOrder("BTC/USDT", "limit", "buy", 0.001, 59_000),
        ),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_(TRADING_KILL_SWITCH_ACTIVE|VAULT_)/),
      });
      const actions: string[] = [];
      for await (const e of kw.audit.readEntries(userChainId("alice")))
        actions.push(JSON.parse(e.body).action);
      expect(actions).toEqual(
        expect.arrayContaining(["vault.user.locked", "vault.grant.revoked", "killswitch.fired"]),
      );
      const ops: string[] = [];
      for await (const e of kw.audit.readEntries("operator")) ops.push(JSON.parse(e.body).action);
      expect(ops).toEqual(expect.arrayContaining(["vault.lock.placed", "emergency.revoked"]));
      expect((await kw.audit.verifyChain(userChainId("alice"))).ok).toBe(true);
    } finally {
      await kw.close();
    }
    expect(await readFile(join(dir, "master.key"), "utf8")).toMatch(/\S/);
  });
});
