// Reads the vitest JSON reports of one CI run and prints "N passed, N failed, N skipped".
// A stage that failed without a test report (lint, typecheck, build, publint, attw) counts as one
// failure, so the line never reads "0 failed" for a failed run.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, statusText] = process.argv.slice(2);
const status = Number(statusText ?? 1);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const r = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += r.numPassedTests ?? 0;
  failed +=
    (r.numFailedTests ?? 0) + (r.success === false && (r.numFailedTests ?? 0) === 0 ? 1 : 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
if (status !== 0 && failed === 0) failed = 1;
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
