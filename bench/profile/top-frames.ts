/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): the frames with the most self time,
 * and self time by source file, as percentages of all samples.
 *
 *   npx tsx bench/profile/top-frames.ts <file.cpuprofile> [frames]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: top-frames.ts <file.cpuprofile> [frames]\n");
  process.exit(2);
}
const limit = Number(process.argv[3] ?? 15) || 15;
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map<number, number>();
for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
/** Busy samples: idle time (waiting for the other processes on a loaded machine) is left out. */
let total = 0;
for (const [id, n] of hits)
  if ((byId.get(id) as ProfileNode).callFrame.functionName !== "(idle)") total += n;

const short = (url: string) =>
  url.replace(/^file:\/\/.*?\/(src|bench|test|node_modules)\//, "$1/").replace(/^node:/, "node:");
const frames = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, n] of hits) {
  const f = (byId.get(id) as ProfileNode).callFrame;
  if (f.functionName === "(idle)") continue;
  const where = f.url ? `${short(f.url)}:${f.lineNumber + 1}` : "(native)";
  const name = f.functionName.startsWith("RegExp:") ? "RegExp (compiled)" : f.functionName;
  const key = `${name || "(anonymous)"}  ${where}`;
  frames.set(key, (frames.get(key) ?? 0) + n);
  const group = f.url
    ? short(f.url)
    : f.functionName.startsWith("RegExp:")
      ? "(regexp)"
      : f.functionName || "(native)";
  files.set(group, (files.get(group) ?? 0) + n);
}
const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
const top = (m: Map<string, number>, k: number) =>
  [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
const out = [`${total} busy samples`, "self time by frame:"];
for (const [k, n] of top(frames, limit)) out.push(`  ${pct(n)}  ${k}`);
out.push("self time by file:");
for (const [k, n] of top(files, 10)) out.push(`  ${pct(n)}  ${k}`);
process.stdout.write(`${out.join("\n")}\n`);
