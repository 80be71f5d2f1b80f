/** Regenerates the permission-model block of docs/permissions.md from the code's tables. */
import { readFileSync, writeFileSync } from "node:fs";
import { EXCHANGE_SPECS } from "../src/permissions/exchanges/index.js";
import { renderModels, spliceDoc } from "./permissions-doc.js";

const path = new URL("../docs/permissions.md", import.meta.url);
const models = Object.values(EXCHANGE_SPECS).map((s) => s.model);
writeFileSync(path, spliceDoc(readFileSync(path, "utf8"), renderModels(models)));
