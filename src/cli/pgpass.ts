/**
 * Looks a PostgreSQL password up in the password file, as libpq does (PostgreSQL manual,
 * "The Password File"): `PGPASSFILE` or `~/.pgpass`; one `hostname:port:database:username:password`
 * per line, `*` matching anything in the first four fields, `\` escaping `:` and `\`, `#` lines
 * ignored, the first matching line winning, and the file ignored when group or others can read it.
 * node-postgres' own lookup is deprecated (it prints a warning), so the CLI passes this as `pg`'s
 * password function.
 */
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** The connection the password is for, with libpq's defaults already applied. */
export interface PgpassTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** Splits one line into fields on unescaped `:`, undoing `\:` and `\\`. */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "\\" && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ":") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * The password for `target` from the file's `text`, or undefined.
 *
 * @example
 * ```ts
 * pgpassLookup("db:5432:*:audit:s3cret\n", { host: "db", port: 5432, database: "kw", user: "audit" });
 * // "s3cret"
 * ```
 * @throws never.
 */
export function pgpassLookup(text: string, target: PgpassTarget): string | undefined {
  const want = [target.host, String(target.port), target.database, target.user];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === "" || raw.startsWith("#")) continue;
    const f = fields(raw);
    if (f.length < 5) continue;
    // A socket connection (a host that is a path) matches the name "localhost".
    const matches = want.every((w, i) => {
      const pattern = f[i] as string;
      if (pattern === "*" || pattern === w) return true;
      return i === 0 && pattern === "localhost" && w.startsWith("/");
    });
    if (matches) return f.slice(4).join(":");
  }
  return undefined;
}

/**
 * Reads the password file named by `env.PGPASSFILE` (default `~/.pgpass`) and looks `target` up;
 * undefined when the file is missing, unreadable, or readable by group or others (libpq ignores
 * such a file).
 *
 * @example
 * ```ts
 * const password = await readPgpass(process.env, { host: "db", port: 5432, database: "kw", user: "audit" });
 * ```
 * @throws never.
 */
export async function readPgpass(
  env: NodeJS.ProcessEnv,
  target: PgpassTarget,
): Promise<string | undefined> {
  const file = env.PGPASSFILE || join(env.HOME || homedir(), ".pgpass");
  try {
    const s = await stat(file);
    if (!s.isFile() || (process.platform !== "win32" && (s.mode & 0o077) !== 0)) return undefined;
    return pgpassLookup(await readFile(file, "utf8"), target);
  } catch {
    return undefined;
  }
}
