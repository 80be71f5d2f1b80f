import { execFile as execFileCb } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  findPostgresBin,
  startPostgres,
  type ThrowawayPostgres,
} from "../../../support/postgres.js";

const execFile = promisify(execFileCb);

/** A throwaway server (see test/support/postgres.ts) that this suite may stop, start and restart. */
export interface RestartablePostgres extends ThrowawayPostgres {
  /** Stops the server (immediate: like a crash) without removing it. */
  halt(): Promise<void>;
  /** Starts it again on the same port, with durable (fsync on) settings when `durable`. */
  resume(options?: { durable?: boolean }): Promise<void>;
}

/**
 * Starts a server with the shared helper and adds stop/start. The shared helper runs with
 * fsync=off for speed; `resume({ durable: true })` restarts it with the defaults (fsync on,
 * full_page_writes on), which is what the benchmarks need.
 */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const server = await startPostgres();
  const bin = findPostgresBin() as string;
  const data = join(server.dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) =>
    asRoot
      ? execFile("runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), ...args], {
          cwd: server.dir,
        })
      : execFile(join(bin, "pg_ctl"), args, { cwd: server.dir });
  return {
    ...server,
    stop: () => server.stop(),
    async halt() {
      await run(["-D", data, "-m", "immediate", "-w", "stop"]);
    },
    async resume(options = {}) {
      const base = `-c listen_addresses=127.0.0.1 -p ${server.port} -k ${server.dir} -c max_connections=200`;
      const opts = options.durable
        ? `${base} -c fsync=on -c full_page_writes=on -c synchronous_commit=on`
        : `${base} -c fsync=off -c full_page_writes=off`;
      await run([
        "-D",
        data,
        "-w",
        "-t",
        "60",
        "-l",
        join(server.dir, "server.log"),
        "-o",
        opts,
        "start",
      ]);
    },
  };
}
