/**
 * `npm run demo`: keywarden end to end, on embedded defaults only — a local KMS master key under a
 * data directory, file stores, and the bundled exchange simulator on 127.0.0.1 (no network, no
 * configuration). It prints a short account of each step, leaves its artifacts in a directory it
 * names (`--out DIR`), and exits non-zero if any step fails.
 *
 * `npm run demo -- --testnet --exchange bybit` runs the same flow against the exchange's own
 * testnet with your keys from the environment: see docs/guides/demo.md.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { generateKeyPair, SignJWT } from "jose";
import { isKeywardenError, Secret, takeSecretFromEnv } from "keywarden";
import { openKeywarden } from "keywarden/embedded";
import { createSessionVerifier, type Identity, runAs } from "keywarden/guard";
import type { ExchangeId } from "keywarden/permissions";
import { startExchangeSimulator } from "keywarden/permissions/testing";
import { buildVerifierPage } from "../../scripts/build-web.mjs";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    quiet: { type: "boolean" },
    testnet: { type: "boolean" },
    exchange: { type: "string" },
    signer: { type: "boolean" },
  },
});
const testnet = values.testnet === true;
const exchange = (testnet ? (values.exchange ?? "bybit") : "binance") as ExchangeId;
const out = resolve(values.out ?? "keywarden-demo");
const root = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

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
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(
      process.execPath,
      ["--import", "tsx", join(root, "src/cli/main.ts"), ...args],
      { cwd: root },
    );
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

/** A local identity provider standing in for the platform's login: it signs users' sessions. */
async function identityProvider() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const issuer = "https://login.demo.invalid/";
  const sessions = createSessionVerifier({
    issuer,
    audience: "trading-platform",
    algorithms: ["ES256"],
    key: publicKey,
  });
  return async (userId: string): Promise<Identity> =>
    sessions.verify(
      await new SignJWT({})
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer(issuer)
        .setAudience("trading-platform")
        .setSubject(userId)
        .setJti(randomBytes(8).toString("hex"))
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey),
    );
}

interface DemoKey {
  apiKey: string;
  secret: Secret;
  password?: Secret;
}

/** Testnet keys: read once from the environment and removed from it. */
function keyFromEnv(prefix: string): DemoKey | undefined {
  if (!process.env[`${prefix}_API_KEY`]) return undefined;
  return {
    apiKey: takeSecretFromEnv(`${prefix}_API_KEY`).useText((t) => t),
    secret: takeSecretFromEnv(`${prefix}_API_SECRET`),
    ...(process.env[`${prefix}_API_PASSPHRASE`]
      ? { password: takeSecretFromEnv(`${prefix}_API_PASSPHRASE`) }
      : {}),
  };
}

/**
 * `--signer`: the signer serves the embedded keywarden on a Unix socket; a bot process enrolled for
 * alice places and cancels an order through it; then the demo searches the bot's environment, its
 * heap snapshot and its output for the trade key's secret and API key.
 */
async function signerStep(
  kw: Awaited<ReturnType<typeof openKeywarden>>,
  session: Identity,
  credentialId: string,
  canaries: string[],
): Promise<void> {
  const { createMemoryCapabilityStore, createSignerServer } = await import("keywarden/signer");
  const { createFileTradingState } = await import("keywarden/trading");
  const { spawn } = await import("node:child_process");
  const { createWriteStream } = await import("node:fs");
  const socketPath = join(out, "signer.sock");
  const logFile = join(out, "signer.log");
  const log = createWriteStream(logFile, { mode: 0o600 });
  const server = await createSignerServer({
    vault: kw.vault,
    audit: kw.audit,
    trading: kw.trading,
    state: createFileTradingState(join(out, "data", "killswitch")),
    capabilities: createMemoryCapabilityStore(),
    operator: { id: "demo-operator", token: Secret.fromString(randomBytes(32).toString("hex")) },
    listen: { socketPath },
    log,
  });
  try {
    const { capability } = await server.enrol(session, {
      botId: "demo-bot",
      exchanges: [exchange],
      actions: ["trade", "cancel", "read"],
      ttlMs: 600_000,
    });
    say(
      `   signer on ${server.address} (mode 0600); bot enrolled with a capability for alice's grant`,
    );
    const snapshot = join(out, "bot.heapsnapshot");
    const bot = spawn(
      process.execPath,
      ["--import", "tsx", join(root, "examples/demo/bot.ts"), socketPath, credentialId, snapshot],
      { cwd: root, env: { PATH: process.env.PATH ?? "" }, stdio: ["pipe", "pipe", "pipe"] },
    );
    bot.stdin.end(capability);
    let stdout = "";
    let stderr = "";
    let environ = "";
    bot.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (!environ && existsSync(`/proc/${bot.pid}/environ`)) {
        try {
          environ = readFileSync(`/proc/${bot.pid}/environ`, "utf8");
        } catch {
          environ = "";
        }
      }
    });
    bot.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((r) => bot.on("exit", r));
    if (code !== 0) throw new Error(`the bot process failed: ${stderr.trim().slice(0, 500)}`);
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const placed = lines.find((l) => l.step === "order");
    say(`   bot: order ${placed?.id} placed and canceled through the signer`);
    if (!lines.find((l) => l.step === "withdraw")?.refused)
      throw new Error("withdraw was not refused");
    say("   bot: withdraw refused: ERR_TRADING_METHOD_REFUSED");
    const heap = readFileSync(snapshot, "utf8");
    // Positive control: the search finds what the bot does hold (its capability).
    if (!heap.includes(capability)) throw new Error("the heap snapshot search cannot see strings");
    const places: Array<[string, string]> = [
      ["environment", environ],
      ["heap snapshot", heap],
      ["output", stdout + stderr],
      ["signer log", readFileSync(logFile, "utf8")],
    ];
    for (const [where, text] of places) {
      for (const c of canaries)
        if (text.includes(c)) throw new Error(`a secret is in the bot's ${where}`);
    }
    say(
      `   the trade key's secret and API key are absent from the bot's environment${environ ? "" : " (not readable here)"}, its heap snapshot (${Math.round(heap.length / 1e6)} MB), its output, and the signer's log`,
    );
    await rm(snapshot, { force: true });
  } finally {
    await server.close();
    log.end();
  }
}

async function main(): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true, mode: 0o700 });
  const dataDir = join(out, "data");
  say(
    `keywarden demo on ${testnet ? `the ${exchange} TESTNET` : "the bundled exchange simulator (127.0.0.1)"}`,
  );
  say(`artifacts: ${out}`);

  const sim = testnet ? undefined : await startExchangeSimulator();
  try {
    let withdrawKey: DemoKey | undefined;
    let tradeKey: DemoKey | undefined;
    if (sim) {
      // Generated test keys, unless given in the environment (the canary test passes its own).
      const make = (tag: string) => ({
        apiKey: `demo-${tag}-${randomBytes(6).toString("hex")}`,
        secret: randomBytes(24).toString("hex"),
      });
      const text = (k: DemoKey) => ({ apiKey: k.apiKey, secret: k.secret.useText((t) => t) });
      const envWd = keyFromEnv("KEYWARDEN_DEMO_WITHDRAW");
      const envTr = keyFromEnv("KEYWARDEN_DEMO");
      const wd = envWd ? text(envWd) : make("wd");
      const tr = envTr ? text(envTr) : make("tr");
      const restricted = {
        read: true,
        trade: true,
        ipRestricted: true,
        ipAllowList: ["127.0.0.1"],
      };
      sim.setKey("binance", { ...wd, permissions: { ...restricted, withdraw: true } });
      sim.setKey("binance", { ...tr, permissions: restricted });
      withdrawKey = { apiKey: wd.apiKey, secret: Secret.fromString(wd.secret) };
      tradeKey = { apiKey: tr.apiKey, secret: Secret.fromString(tr.secret) };
    } else {
      withdrawKey = keyFromEnv("KEYWARDEN_DEMO_WITHDRAW");
      tradeKey = keyFromEnv("KEYWARDEN_DEMO");
    }
    if (!tradeKey)
      throw new Error("--testnet needs KEYWARDEN_DEMO_API_KEY and KEYWARDEN_DEMO_API_SECRET");
    const accepted = tradeKey;
    // For the --signer step: the values that must never reach the bot process (read before
    // onboarding wipes the secret).
    const canaries = values.signer ? [accepted.apiKey, accepted.secret.useText((t) => t)] : [];

    const kw = await stepDo(
      "Open keywarden on embedded defaults (local KMS master key 0600, file stores)",
      async () => {
        const k = await openKeywarden({
          dataDir,
          ...(sim
            ? { exchangeTransport: (ex: string) => ({ ...sim.ccxtOptions(ex as "binance") }) }
            : { sandbox: true }),
          // Withdraw is never accepted; IP restriction is required unless a testnet run turns it off.
          permissionPolicy: { requireIpRestriction: process.env.KEYWARDEN_DEMO_REQUIRE_IP !== "0" },
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
    const login = await identityProvider();
    const alice = await login("alice");
    say("   alice logged in (ES256 session verified: issuer, audience, expiry, max age)");

    await stepDo("Onboard a key that can WITHDRAW (must be refused)", async () => {
      if (!withdrawKey) {
        say(
          "   skipped: set KEYWARDEN_DEMO_WITHDRAW_API_KEY/_SECRET to a withdraw-enabled testnet key to see it refused",
        );
        return;
      }
      try {
        await kw.onboardKey(alice, exchange, withdrawKey);
      } catch (err) {
        if (!isKeywardenError(err, "ERR_PERMISSIONS_WITHDRAW_ENABLED")) throw err;
        say(`   refused: ${err.code} — not stored, not retried, secret wiped; audit: key.rejected`);
        return;
      }
      throw new Error("a withdraw-enabled key was accepted");
    });

    const credentialId = await stepDo(
      "Onboard a trade-only, IP-restricted key (accepted)",
      async () => {
        const r = await kw.onboardKey(alice, exchange, accepted);
        say(`   stored sealed under alice's data key as ${r.credentialId}; audit: key.onboarded`);
        return r.credentialId;
      },
    );

    const grant = await stepDo(
      `Alice grants the bot a 1-hour trading grant (${exchange}; trade, cancel, read)`,
      async () => {
        const { grant: g, summary } = await kw.vault.createGrant(alice, {
          exchanges: [exchange],
          actions: ["trade", "cancel", "read"],
          ttlMs: 3_600_000,
        });
        say(
          `   grant ${summary.grantId}: the bot trades with it while alice is logged out; revocable any time`,
        );
        return g;
      },
    );

    const handle = kw.trading.handle(credentialId);
    // A limit buy 3 % below the market, so it rests open (on a testnet too) until canceled.
    const below = async (symbol: string) => {
      const t = (await runAs(grant, () => handle.fetchTicker(symbol))) as { last?: number };
      return Number(((t.last ?? 0) * 0.97).toPrecision(5));
    };
    const buy = async (symbol: string, amount: number) =>
      runAs(grant, async () =>
        handle.createOrder(symbol, "limit", "buy", amount, await below(symbol)),
      );

    const order = await stepDo(
      "The bot places a limit order (guard, kill-switch check, intent, vault, ccxt, result)",
      async () => {
        const o = await buy("BTC/USDT", 0.001);
        say(`   order ${o.id} placed; audit: order.intent then order.placed`);
        return o;
      },
    );

    await stepDo("The bot tries to withdraw (refused before any network call)", async () => {
      const rogue = handle as unknown as { withdraw: (...a: unknown[]) => Promise<unknown> };
      try {
        await runAs(grant, () => rogue.withdraw("USDT", 100, "attacker-address"));
      } catch (err) {
        if (!isKeywardenError(err, "ERR_TRADING_METHOD_REFUSED")) throw err;
        say(`   refused: ${err.code}; audit: trading.refused`);
        return;
      }
      throw new Error("withdraw was not refused");
    });

    await stepDo("Cancel the order, place another, change a strategy parameter", async () => {
      await runAs(grant, () => handle.cancelOrder(order.id, "BTC/USDT"));
      await buy("ETH/USDT", 0.01);
      await runAs(alice, () =>
        kw.trading.recordParameterChange("alice", {
          name: "grid.spacing",
          from: "0.50",
          to: "0.75",
        }),
      );
      say("   audit: order.canceled, order.intent, order.placed, parameter.changed");
    });

    if (values.signer) {
      await stepDo(
        "A bot in its own process trades through the signer's Unix socket (it holds no secret)",
        () => signerStep(kw, alice, credentialId, canaries),
      );
    }

    await stepDo(
      "Fire the kill switch (cancels every open order, then blocks orders)",
      async () => {
        const report = await runAs(grant, () =>
          kw.trading.fireKillSwitch("alice", "drawdown limit reached"),
        );
        say(`   ${report.cancels.map((c) => `${c.exchange}: ${c.outcome}`).join(", ")}`);
        try {
          await buy("BTC/USDT", 0.001);
        } catch (err) {
          if (!isKeywardenError(err, "ERR_TRADING_KILL_SWITCH_ACTIVE")) throw err;
          say("   next order refused: ERR_TRADING_KILL_SWITCH_ACTIVE");
          return;
        }
        throw new Error("an order passed the kill switch");
      },
    );
    await kw.close();

    const chain = "user:alice";
    const store = `file:${join(dataDir, "audit.jsonl")}`;
    const jsonl = join(out, "alice-audit.jsonl");
    const csv = join(out, "alice-audit.csv");
    const keyFile = join(out, "log-signing.key");
    const vkeyFile = join(out, "log-verifier.key");
    const checkpoint = join(out, "alice-checkpoint.txt");
    const logName = "demo.keywarden.invalid";
    await stepDo(
      "Generate the log's signing key and publish a signed checkpoint (CLI)",
      async () => {
        const g = await cli(["audit", "keygen", "--name", logName, "--out", keyFile]);
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
          logName,
          "--key",
          keyFile,
          "--out",
          checkpoint,
        ]);
        if (c.code !== 0) throw new Error(`checkpoint failed: ${c.stderr.trim()}`);
        say(`   verifier key (publish it): ${vkey}`);
        say(`   checkpoint: ${checkpoint}`);
      },
    );

    await stepDo(
      "Export alice's audit chain as JSON Lines and CSV, manifests signed (CLI)",
      async () => {
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
            "--key",
            keyFile,
            "--out",
            file,
          ]);
          if (r.code !== 0) throw new Error(`export ${format} failed: ${r.stderr.trim()}`);
          say(`   ${file}`);
        }
      },
    );

    await stepDo("Verify everything with the CLI, and show that an edited copy fails", async () => {
      const vkey = readFileSync(vkeyFile, "utf8").trim();
      for (const file of [jsonl, csv]) {
        const r = await cli(["audit", "verify", file, "--checkpoint", checkpoint, "--vkey", vkey]);
        if (r.code !== 0)
          throw new Error(`verify failed for ${file}: ${(r.stdout + r.stderr).trim()}`);
        for (const line of r.stdout.trim().split("\n")) say(`   ${file.split("/").pop()}: ${line}`);
      }
      const lines = readFileSync(jsonl, "utf8").split("\n");
      // A copy missing its last three entries, with its manifest fixed up to match and unsigned, is
      // consistent on its own; the signed checkpoint shows that it is TRUNCATED.
      const shortened = join(out, "alice-audit.TRUNCATED.jsonl");
      const entries = lines
        .slice(1)
        .filter((l) => l.length > 0)
        .slice(0, -3);
      const last = JSON.parse(entries[entries.length - 1] as string) as { hash: string };
      const manifest = (JSON.parse(lines[0] as string) as { manifest: Record<string, unknown> })
        .manifest;
      // The attacker also strips the manifest signature, which the fixed-up manifest would fail.
      const { signature: _signature, origin: _origin, ...unsigned } = manifest;
      const fixed = JSON.stringify({
        manifest: { ...unsigned, headHash: last.hash, size: entries.length },
      });
      await writeFile(shortened, `${[fixed, ...entries].join("\n")}\n`);
      const alone = await cli(["audit", "verify", shortened]);
      if (alone.code !== 0)
        throw new Error(`the fixed-up short copy should pass alone: ${alone.stderr.trim()}`);
      const cut = await cli([
        "audit",
        "verify",
        shortened,
        "--checkpoint",
        checkpoint,
        "--vkey",
        vkey,
      ]);
      if (cut.code === 0) throw new Error("a truncated export verified against the checkpoint");
      say(
        `   a copy missing its last 3 entries: exit ${cut.code}, ${(cut.stdout + cut.stderr).trim().split("\n").pop()}`,
      );
      lines[3] = (lines[3] as string).replace(/"ts":"[^"]+"/, '"ts":"2020-01-01T00:00:00.000Z"');
      const edited = join(out, "alice-audit.EDITED.jsonl");
      await writeFile(edited, lines.join("\n"));
      const bad = await cli([
        "audit",
        "verify",
        edited,
        "--checkpoint",
        checkpoint,
        "--vkey",
        vkey,
      ]);
      if (bad.code === 0) throw new Error("an edited export verified");
      say(
        `   an edited copy (one timestamp changed): exit ${bad.code}, ${(bad.stdout + bad.stderr).trim().split("\n")[0]}`,
      );
    });

    // The offline verifier page, next to the exports (built here when `npm run build` has not run).
    const page = join(root, "dist/web/verifier");
    if (existsSync(page)) await cp(page, join(out, "verifier"), { recursive: true });
    else await buildVerifierPage(join(out, "verifier"));
    say(
      `\nOpen ${join(out, "verifier", "index.html")} in a browser to verify the exports offline.`,
    );
    say(`\nDone: every step passed. Artifacts are in ${out}`);
  } finally {
    await sim?.close();
  }
}

main().catch((err) => {
  const code = (err as { code?: string }).code;
  process.stderr.write(
    `\ndemo failed at step ${step}: ${code ? `${code}: ` : ""}${(err as Error).message}\n`,
  );
  process.exitCode = 1;
});
