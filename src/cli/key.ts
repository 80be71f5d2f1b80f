// PLACEHOLDER: the 'key' command group, replaced by its module's implementation.
import type { CommandGroup } from "./run.js";

export const key: CommandGroup = { summary: "(not yet available)", commands: {} };
