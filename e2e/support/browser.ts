/**
 * Debian's Chromium driven by playwright-core, with the flags a root, offline container needs and
 * a fresh profile per launch. When KEYWARDEN_REQUIRE_SERVICES=1 (CI) a missing Chromium fails the
 * suite instead of skipping it.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { describe, expect, it } from "vitest";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const chromiumAvailable = existsSync(chromiumPath);
export const chromiumRequired = process.env.KEYWARDEN_REQUIRE_SERVICES === "1";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A fresh browser profile; `close` removes it. */
export async function launchBrowser(): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  if (!chromiumAvailable)
    throw new Error(`Chromium not found at ${chromiumPath} (apt-get install chromium)`);
  const profile = await mkdtemp(join(tmpdir(), "kw-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * `describe` for browser suites: runs when Chromium is present; skipped when it is absent off CI;
 * on CI (KEYWARDEN_REQUIRE_SERVICES=1) an absent Chromium is one failing test, never a skip.
 */
export function describeBrowser(name: string, suite: () => void): void {
  if (chromiumAvailable) describe(name, suite);
  else if (chromiumRequired)
    describe(name, () => {
      it("needs Chromium", () => {
        expect.fail(`Chromium not found at ${chromiumPath}: apt-get install chromium`);
      });
    });
  else describe.skip(name, suite);
}
