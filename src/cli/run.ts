import { isKeywardenError } from "../errors.js";
import { type CliIo, println } from "./io.js";

/** One subcommand: `keywarden <group> <name> ...`. Returns the process exit code. */
export interface Command {
  /** One line for the group's help. */
  readonly summary: string;
  /** Full usage text printed by `--help`. */
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A group of subcommands, e.g. `audit`. */
export interface CommandGroup {
  readonly summary: string;
  readonly commands: Readonly<Record<string, Command>>;
}

/** A loader's result: a group of subcommands, or one command run as `keywarden <name> ...`. */
export type CommandEntry = CommandGroup | Command;

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const TOP_USAGE = (groups: Record<string, { summary: string }>) =>
  [
    "Usage: keywarden <group> <command> [options]",
    "",
    "Groups:",
    ...Object.entries(groups).map(([name, g]) => `  ${name.padEnd(10)} ${g.summary}`),
    "",
    "Run `keywarden <group> --help` or `keywarden <group> <command> --help` for details.",
  ].join("\n");

/** Dispatches argv to a command; every error becomes a message and an exit code, never a trace. */
export async function runCli(
  argv: string[],
  io: CliIo,
  loaders: Record<string, () => Promise<CommandEntry>>,
): Promise<number> {
  const [groupName, commandName, ...rest] = argv;
  const loaded = groupName === undefined ? undefined : await loaders[groupName]?.();
  if (loaded && "run" in loaded) {
    return runCommand(loaded, argv.slice(1), io);
  }
  if (
    groupName === undefined ||
    groupName === "--help" ||
    groupName === "-h" ||
    groupName === "help"
  ) {
    const groups: Record<string, { summary: string }> = {};
    for (const [name, load] of Object.entries(loaders)) groups[name] = await load();
    println(groupName === undefined ? io.stderr : io.stdout, TOP_USAGE(groups));
    return groupName === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!loaded) {
    println(io.stderr, `keywarden: unknown command group '${groupName}' (see keywarden --help)`);
    return EXIT.usage;
  }
  const group = loaded;
  if (commandName === undefined || commandName === "--help" || commandName === "-h") {
    const lines = [
      `Usage: keywarden ${groupName} <command> [options]`,
      "",
      group.summary,
      "",
      "Commands:",
    ];
    for (const [name, c] of Object.entries(group.commands))
      lines.push(`  ${name.padEnd(12)} ${c.summary}`);
    println(commandName === undefined ? io.stderr : io.stdout, lines.join("\n"));
    return commandName === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = group.commands[commandName];
  if (!command) {
    println(
      io.stderr,
      `keywarden: unknown command '${groupName} ${commandName}' (see keywarden ${groupName} --help)`,
    );
    return EXIT.usage;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, rest: string[], io: CliIo): Promise<number> {
  if (rest.includes("--help") || rest.includes("-h")) {
    println(io.stdout, command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    // Usage errors from node:util parseArgs carry a code; keywarden errors carry safe messages.
    if (isKeywardenError(err)) {
      println(io.stderr, `keywarden: ${err.code}: ${err.message}`);
      return EXIT.failed;
    }
    const code = (err as { code?: unknown })?.code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      println(io.stderr, `keywarden: ${(err as Error).message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    println(io.stderr, "keywarden: unexpected internal error");
    return EXIT.failed;
  }
}
