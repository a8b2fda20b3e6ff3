// `npm test`: lint, typecheck and every package's tests (turbo builds what they need first),
// then one total line. Old reports are removed first so a stale pass cannot be counted.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { root, testedPackages } from "./workspaces.mjs";

for (const { report } of testedPackages())
  rmSync(dirname(report), { recursive: true, force: true });

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: "1",
  FORCE_COLOR: process.env.FORCE_COLOR ?? "0",
};
const extra = process.argv.slice(2);
const turbo = spawnSync(
  "npx",
  [
    "turbo",
    "run",
    "lint",
    "lint:root",
    "typecheck",
    "test",
    "--continue",
    "--concurrency=3",
    ...extra,
  ],
  { cwd: root, stdio: "inherit", env },
);
const summary = spawnSync("node", ["scripts/test-summary.mjs"], { cwd: root, stdio: "inherit" });
process.exit(turbo.status !== 0 || summary.status !== 0 ? 1 : 0);
