import { execFile as execFileCb, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFile = promisify(execFileCb);

/** A throwaway PostgreSQL server: a fresh cluster in a temp dir, bound to 127.0.0.1 only. */
export interface ThrowawayPostgres {
  /** Superuser connection URL (password auth over TCP on 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  /** The temp directory holding the cluster, removed by stop(). */
  readonly dir: string;
  /** Stops the server (immediate shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Finds the PostgreSQL server binaries (Debian keeps them under /usr/lib/postgresql/<v>/bin). */
export function findPostgresBin(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Starts a real PostgreSQL server for tests. initdb and postgres refuse to run as root, so as root
 * they run as the `postgres` system user (created by the Debian package) through runuser.
 */
export async function startPostgres(): Promise<ThrowawayPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "keywarden-pg-"));
  const data = join(dir, "data");
  const password = randomBytes(18).toString("base64url");
  writeFileSync(join(dir, "pwfile"), `${password}\n`, { mode: 0o600 });
  let uid: number | undefined;
  if (asRoot) {
    const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (id.status !== 0) throw new Error("running as root but there is no 'postgres' user");
    uid = Number(id.stdout.trim());
    chownSync(dir, uid, Number(gid.stdout.trim()));
    chownSync(join(dir, "pwfile"), uid, Number(gid.stdout.trim()));
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFile("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], { cwd: dir })
      : execFile(join(bin, cmd), args, { cwd: dir });

  await run("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "--pwfile",
    join(dir, "pwfile"),
    "--auth-host=scram-sha-256",
    "--auth-local=trust",
    "--locale=C.UTF-8",
    "--encoding=UTF8",
    "--no-sync",
  ]);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await run("pg_ctl", [
        "-D",
        data,
        "-w",
        "-t",
        "60",
        "-l",
        join(dir, "server.log"),
        "-o",
        `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`,
        "start",
      ]);
      break;
    } catch (err) {
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stopSync);
    try {
      await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // If the process dies without calling stop(), still take the server down.
  const stopSync = () => {
    if (stopped) return;
    const args = ["-D", data, "-m", "immediate", "-w", "stop"];
    if (asRoot) spawnSync("runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), ...args]);
    else spawnSync(join(bin, "pg_ctl"), args);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stopSync);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop,
  };
}

/** Creates a fresh, empty database on the server and returns its URL. */
export async function createDatabase(adminUrl: string, name?: string): Promise<string> {
  const { default: pg } = await import("pg");
  const db = name ?? `t_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${db}`);
  } finally {
    await client.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  return u.toString();
}
