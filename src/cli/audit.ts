// PLACEHOLDER: the 'audit' command group, replaced by its module's implementation.
import type { CommandGroup } from "./run.js";

export const audit: CommandGroup = { summary: "(not yet available)", commands: {} };
