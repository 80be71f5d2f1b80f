import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

type GuardModule = typeof import("../../src/guard/index.js");

/**
 * Two independent bundles of keywarden/guard (the duplicated-dependency hazard: each has its own
 * AsyncLocalStorage, WeakSet and Map in its own module scope) must still agree on who the caller
 * is and on the registry, through the process-global runtime.
 */
describe("two bundled copies of keywarden/guard", () => {
  const dir = mkdtempSync(join(tmpdir(), "kw-guard-bundles-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function bundle(name: string): Promise<GuardModule> {
    const outfile = join(dir, `${name}.mjs`);
    await build({
      entryPoints: [new URL("../../src/guard/index.ts", import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile,
      logLevel: "silent",
    });
    return (await import(/* @vite-ignore */ pathToFileURL(outfile).href)) as GuardModule;
  }

  it("share the identity context, the identity brand and the registry", async () => {
    const one = await bundle("one");
    const two = await bundle("two");
    expect(one.owned).not.toBe(two.owned); // really two copies

    const rows = new Map([["a1", { id: "a1", userId: "user-a" }]]);
    const get = two.owned(
      {
        name: "bundles.get",
        resource: "bundle-row",
        id: (id: string) => id,
        load: (id: string) => rows.get(id),
        owner: (r: { userId: string }) => r.userId,
      },
      async ({ row }) => row.id,
    );
    const a = one.hostIdentity("user-a");
    const b = one.hostIdentity("user-b");
    expect(two.isIdentity(a)).toBe(true);
    expect(await one.runAs(a, () => get("a1"))).toBe("a1");
    await expect(one.runAs(b, () => get("a1"))).rejects.toMatchObject({
      code: "ERR_GUARD_NOT_FOUND",
    });
    await expect(get("a1")).rejects.toMatchObject({ code: "ERR_GUARD_UNAUTHENTICATED" });
    expect(one.handlerEntryOf(get)?.name).toBe("bundles.get");
    expect(one.listHandlers().map((h) => h.name)).toContain("bundles.get");
  });
});
