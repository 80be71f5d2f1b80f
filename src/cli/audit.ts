/**
 * `keywarden audit …`: the audit command group. Each job has its own file: verify an export
 * (./audit-verify.ts), export a chain (./audit-export.ts), migrate the PostgreSQL schema
 * (./audit-migrate.ts), and the transparency commands (./audit-transparency.ts: keys,
 * checkpoints and proofs, monitoring, witnessing).
 */
import { exportCommand } from "./audit-export.js";
import { migrateCommand } from "./audit-migrate.js";
import { sequencerCommand } from "./audit-sequencer.js";
import { transparencyCommands } from "./audit-transparency.js";
import { verifyCommand } from "./audit-verify.js";
import type { CommandGroup } from "./run.js";

/** The `audit` command group. */
export const audit: CommandGroup = {
  summary: "Verify and export tamper-evident audit chains",
  commands: {
    verify: verifyCommand,
    export: exportCommand,
    migrate: migrateCommand,
    sequencer: sequencerCommand,
    ...transparencyCommands,
  },
};
