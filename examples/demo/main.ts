/**
 * `npm run demo`: keywarden end to end, on embedded defaults only — a local KMS master key under a
 * data directory, file stores, and the bundled exchange simulator on 127.0.0.1 (no network, no
 * configuration). It prints a short account of each step, leaves its artifacts in a directory it
 * names (`--out DIR`), and exits non-zero if any step fails.
 *
 * Against a real exchange testnet instead, see docs/guides/demo.md.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { isKeywardenError, Secret } from "keywarden";
import { openKeywarden } from "keywarden/embedded";
import { createSessionVerifier, runAs } from "keywarden/guard";
import { startExchangeSimulator } from "keywarden/permissions/testing";

const run = promisify(execFile);
const { values } = parseArgs({ options: { out: { type: "string" }, quiet: { type: "boolean" } } });
const out = resolve(values.out ?? "keywarden-demo");
const say = (line: string) => {
  if (!values.quiet) process.stdout.write(`${line}\n`);
};
let step = 0;
async function stepDo<T>(title: string, fn: () => Promise<T>): Promise<T> {
  step++;
  say(`\n${step}. ${title}`);
  return fn();
}

/** Runs the keywarden CLI as a separate process, as a user would. */
async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = resolve(import.meta.dirname, "../../src/cli/main.ts");
  try {
    const r = await run(process.execPath, ["--import", "tsx", main, ...args], {
      env: { ...process.env, ...env },
      cwd: resolve(import.meta.dirname, "../.."),
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === "number" ? e.code : 1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
    };
  }
}

async function main(): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true, mode: 0o700 });
  const dataDir = join(out, "data");
  say(`keywarden demo — artifacts in ${out}`);

  const sim = await startExchangeSimulator();
  const kwPromise = (async () => {
    // A local identity provider, standing in for the platform's login: it signs users' sessions.
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const sessions = createSessionVerifier({
      issuer: "https://login.demo.invalid/",
      audience: "trading-platform",
      algorithms: ["ES256"],
      key: publicKey,
    });
    const login = async (userId: string) =>
      sessions.verify(
        await new SignJWT({})
          .setProtectedHeader({ alg: "ES256" })
          .setIssuer("https://login.demo.invalid/")
          .setAudience("trading-platform")
          .setSubject(userId)
          .setJti(randomBytes(8).toString("hex"))
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(privateKey),
      );
    void exportJWK;
    return login;
  })();

  try {
    const login = await kwPromise;
    const kw = await stepDo(
      "Open keywarden on embedded defaults (local KMS master key 0600, file stores)",
      async () => {
        const k = await openKeywarden({
          dataDir,
          exchangeTransport: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }),
          // Default acceptance policy: withdraw never; IP restriction required. (Binance reports
        // that a key is IP-restricted, not the list itself, so no outbound addresses are pinned.)
        permissionPolicy: { requireIpRestriction: true },
          risk: {
            symbols: ["BTC/USDT", "ETH/USDT"],
            maxNotional: "10000",
            priceBand: 0.05,
            maxOpenOrders: 10,
          },
        });
        say(`   data directory: ${dataDir}`);
        return k;
      },
    );
    const alice = await login("alice");
    say("   alice logged in (ES256 session verified: issuer, audience, expiry, max age)");

    const withdrawKey = {
      apiKey: `demo-wd-${randomBytes(6).toString("hex")}`,
      secret: randomBytes(24).toString("hex"),
    };
    const tradeKey = {
      apiKey: `demo-tr-${randomBytes(6).toString("hex")}`,
      secret: randomBytes(24).toString("hex"),
    };
    sim.setKey("binance", {
      ...withdrawKey,
      permissions: {
        read: true,
        trade: true,
        withdraw: true,
        ipRestricted: true,
        ipAllowList: ["127.0.0.1"],
      },
    });
    sim.setKey("binance", {
      ...tradeKey,
      permissions: { read: true, trade: true, ipRestricted: true, ipAllowList: ["127.0.0.1"] },
    });

    await stepDo("Onboard a key that can WITHDRAW (must be refused)", async () => {
      try {
        await kw.onboardKey(alice, "binance", {
          apiKey: withdrawKey.apiKey,
          secret: Secret.fromString(withdrawKey.secret),
        });
        throw new Error("a withdraw-enabled key was accepted");
      } catch (err) {
        if (!isKeywardenError(err, "ERR_PERMISSIONS_WITHDRAW_ENABLED")) throw err;
        say(`   refused: ${err.code} — not stored, not retried, secret wiped; audit: key.rejected`);
      }
    });

    const credentialId = await stepDo(
      "Onboard a trade-only, IP-restricted key (accepted)",
      async () => {
        const r = await kw.onboardKey(alice, "binance", {
          apiKey: tradeKey.apiKey,
          secret: Secret.fromString(tradeKey.secret),
        });
        say(`   stored sealed under alice's data key as ${r.credentialId}; audit: key.onboarded`);
        return r.credentialId;
      },
    );

    const grant = await stepDo(
      "Alice grants the bot a 1-hour trading grant (binance; trade, cancel, read)",
      async () => {
        const { grant: g, summary } = await kw.vault.createGrant(alice, {
          exchanges: ["binance"],
          actions: ["trade", "cancel", "read"],
          ttlMs: 3_600_000,
        });
        say(
          `   grant ${summary.grantId} — the bot trades with it while alice is logged out; revocable any time`,
        );
        return g;
      },
    );

    const binance = kw.trading.handle(credentialId);
    const order = await stepDo(
      "The bot places a limit order (guard → kill-switch check → intent → vault → ccxt → result)",
      async () => {
        const o = await runAs(grant, () =>
          binance.createOrder("BTC/USDT", "limit", "buy", 0.01, 59_500),
        );
        say(`   order ${o.id} placed; audit: order.intent then order.placed`);
        return o;
      },
    );

    await stepDo("The bot tries to withdraw (refused before any network call)", async () => {
      try {
        await runAs(grant, () =>
          (binance as unknown as { withdraw: (...a: unknown[]) => Promise<unknown> }).withdraw(
            "USDT",
            100,
            "attacker-address",
          ),
        );
        throw new Error("withdraw was not refused");
      } catch (err) {
        if (!isKeywardenError(err, "ERR_TRADING_METHOD_REFUSED")) throw err;
        say(`   refused: ${err.code}; audit: trading.refused`);
      }
    });

    await stepDo("Cancel the order, place another, change a strategy parameter", async () => {
      await runAs(grant, () => binance.cancelOrder(order.id, "BTC/USDT"));
      await runAs(grant, () => binance.createOrder("ETH/USDT", "limit", "buy", 0.5, 2_950));
      await runAs(alice, () =>
        kw.trading.recordParameterChange("alice", {
          name: "grid.spacing",
          from: "0.50",
          to: "0.75",
        }),
      );
      say("   audit: order.canceled, order.intent, order.placed, parameter.changed");
    });

    await stepDo(
      "Fire the kill switch (cancels every open order, then blocks orders)",
      async () => {
        const report = await runAs(grant, () =>
          kw.trading.fireKillSwitch("alice", "drawdown limit reached"),
        );
        say(`   ${report.cancels.map((c) => `${c.exchange}: ${c.outcome}`).join(", ")}`);
        try {
          await runAs(grant, () => binance.createOrder("BTC/USDT", "limit", "buy", 0.01, 59_500));
          throw new Error("an order passed the kill switch");
        } catch (err) {
          if (!isKeywardenError(err, "ERR_TRADING_KILL_SWITCH_ACTIVE")) throw err;
          say("   next order refused: ERR_TRADING_KILL_SWITCH_ACTIVE");
        }
      },
    );
    await kw.close();

    const chain = "user:alice";
    const store = `file:${join(dataDir, "audit.jsonl")}`;
    const jsonl = join(out, "alice-audit.jsonl");
    const csv = join(out, "alice-audit.csv");
    await stepDo("Export alice's audit chain as JSON Lines and CSV (CLI)", async () => {
      for (const [format, file] of [
        ["jsonl", jsonl],
        ["csv", csv],
      ] as const) {
        const r = await cli([
          "audit",
          "export",
          "--store",
          store,
          "--chain",
          chain,
          "--format",
          format,
          "--out",
          file,
        ]);
        if (r.code !== 0) throw new Error(`export ${format} failed: ${r.stderr.trim()}`);
      }
      say(`   ${jsonl}\n   ${csv}`);
    });

    const keyFile = join(out, "log-signing.key");
    const vkeyFile = join(out, "log-verifier.key");
    const checkpoint = join(out, "alice-checkpoint.txt");
    await stepDo(
      "Generate the log's signing key and publish a signed checkpoint (CLI)",
      async () => {
        const g = await cli([
          "audit",
          "keygen",
          "--name",
          "demo.keywarden.invalid",
          "--out",
          keyFile,
        ]);
        if (g.code !== 0) throw new Error(`keygen failed: ${g.stderr.trim()}`);
        const vkey = g.stdout.trim().split("\n").pop() as string;
        await writeFile(vkeyFile, `${vkey}\n`);
        const c = await cli([
          "audit",
          "checkpoint",
          "--store",
          store,
          "--chain",
          chain,
          "--log-name",
          "demo.keywarden.invalid",
          "--key",
          keyFile,
          "--out",
          checkpoint,
        ]);
        if (c.code !== 0) throw new Error(`checkpoint failed: ${c.stderr.trim()}`);
        say(`   verifier key (publish it): ${vkey}\n   checkpoint: ${checkpoint}`);
      },
    );

    await stepDo("Verify everything with the CLI, and show that an edited copy fails", async () => {
      const vkey = (await import("node:fs")).readFileSync(vkeyFile, "utf8").trim();
      for (const file of [jsonl, csv]) {
        const r = await cli(["audit", "verify", file, "--checkpoint", checkpoint, "--vkey", vkey]);
        if (r.code !== 0)
          throw new Error(`verify failed for ${file}: ${(r.stdout + r.stderr).trim()}`);
        say(`   ${file.split("/").pop()}: ${r.stdout.trim().split("\n")[0]}`);
      }
      const text = (await import("node:fs")).readFileSync(jsonl, "utf8").split("\n");
      const edited = join(out, "alice-audit.EDITED.jsonl");
      text[3] = (text[3] as string).replace(/"ts":"[^"]+"/, '"ts":"2020-01-01T00:00:00.000Z"');
      await writeFile(edited, text.join("\n"));
      const bad = await cli(["audit", "verify", edited]);
      if (bad.code === 0) throw new Error("an edited export verified");
      say(`   edited copy: exit ${bad.code} — ${(bad.stdout + bad.stderr).trim().split("\n")[0]}`);
    });

    const page = resolve(import.meta.dirname, "../../dist/web/verifier");
    if (existsSync(page)) {
      await cp(page, join(out, "verifier"), { recursive: true });
      say(
        `\nOpen ${join(out, "verifier", "index.html")} in a browser to verify the export offline.`,
      );
    }
    say(`\nDone: every step passed. Artifacts are in ${out}`);
  } finally {
    await sim.close();
  }
}

main().catch((err) => {
  const code = (err as { code?: string }).code;
  process.stderr.write(
    `\ndemo failed at step ${step}: ${code ? `${code}: ` : ""}${(err as Error).message}\n`,
  );
  process.exitCode = 1;
});
