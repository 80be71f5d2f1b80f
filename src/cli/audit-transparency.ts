// PLACEHOLDER: transparency subcommands (keygen, checkpoint, prove, witness), owned by the transparency work.
import type { Command } from "./run.js";

export const transparencyCommands: Record<string, Command> = {};
