// PLACEHOLDER: the 'kms' command group, replaced by its module's implementation.
import type { CommandGroup } from "./run.js";

export const kms: CommandGroup = { summary: "(not yet available)", commands: {} };
