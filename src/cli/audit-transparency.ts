/**
 * The transparency subcommands of `keywarden audit`, merged into the group by ./audit.ts: signing
 * keys (./audit-signing-key.ts), checkpoints and proofs (./audit-checkpoint.ts), monitoring
 * (./audit-monitor.ts), consistency proofs (./audit-consistency.ts) and witnessing
 * (./audit-witness.ts).
 */
import { checkpointCommand, proveCommand } from "./audit-checkpoint.js";
import { verifyConsistencyCommand } from "./audit-consistency.js";
import { headsCommands } from "./audit-heads.js";
import { checkCheckpointCommand, verifyReceiptCommand } from "./audit-monitor.js";
import { keygenCommand } from "./audit-signing-key.js";
import { witnessCommand } from "./audit-witness.js";
import type { Command } from "./run.js";

/** The transparency subcommands of `keywarden audit`. */
export const transparencyCommands: Record<string, Command> = {
  keygen: keygenCommand,
  checkpoint: checkpointCommand,
  prove: proveCommand,
  witness: witnessCommand,
  "check-checkpoint": checkCheckpointCommand,
  "verify-receipt": verifyReceiptCommand,
  "verify-consistency": verifyConsistencyCommand,
  ...headsCommands,
};
