#!/usr/bin/env node
/**
 * The `keywarden` command. Each command group lives in its own file and is imported only when
 * used, so `keywarden audit verify` never loads ccxt or the AWS SDK.
 */
import { realIo } from "./io.js";
import { type CommandEntry, runCli } from "./run.js";

const groups: Record<string, () => Promise<CommandEntry>> = {
  audit: async () => (await import("./audit.js")).audit,
  kms: async () => (await import("./kms.js")).kms,
  key: async () => (await import("./key.js")).key,
  emergency: async () => (await import("./emergency.js")).emergency,
  witness: async () => (await import("./witness.js")).witness,
  serve: async () => (await import("./serve.js")).serve,
};

process.exitCode = await runCli(process.argv.slice(2), realIo(), groups);
