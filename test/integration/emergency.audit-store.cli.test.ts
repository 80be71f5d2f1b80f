import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import { openSqliteAuditStore } from "../../src/audit/storage/sqlite/index.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import { openKeywarden } from "../../src/embedded/index.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { makeIdp } from "../vault/helpers.js";

describe("keywarden emergency revoke-all --audit-store URL", () => {
  let sim: ExchangeSimulator;
  let dir: string;
  beforeAll(async () => {
    sim = await startExchangeSimulator();
    dir = await mkdtemp(join(tmpdir(), "kw-emergency-store-"));
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("records the revocation in the store the URL names (here SQLite)", async () => {
    const idp = await makeIdp();
    sim.setKey("binance", {
      apiKey: "es-key",
      secret: "es-secret",
      permissions: { read: true, trade: true, ipRestricted: true },
    });
    const kw = await openKeywarden({
      dataDir: dir,
      exchangeTransport: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }),
    });
    await kw.onboardKey(await idp.session("carol"), "binance", {
      apiKey: "es-key",
      secret: Secret.fromString("es-secret"),
    });
    await kw.close();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = "";
    stderr.on("data", (c) => {
      err += c;
    });
    stdout.resume();
    const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: dir };
    const argv = ["emergency", "revoke-all", "--data-dir", ".", "--reason", "leak", "--operator"];
    const code = await runCli([...argv, "ops-2", "--audit-store", "sqlite:incident.db"], io, {
      emergency: async () => (await import("../../src/cli/emergency.js")).emergency,
    });
    expect(err).toContain("1 user(s), 1 credential set(s) locked");
    expect(code).toBe(0);
    const store = await openSqliteAuditStore({
      database: join(dir, "incident.db"),
      readOnly: true,
    });
    try {
      const log = new AuditLog({ store });
      const ops: string[] = [];
      for await (const e of log.readEntries("operator")) ops.push(JSON.parse(e.body).action);
      expect(ops).toContain("emergency.revoked");
      expect((await log.verifyChain("user:carol")).ok).toBe(true);
    } finally {
      await store.close?.();
    }
  });
});
