// The workspace packages of the root package.json, expanded from their globs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const root = new URL("..", import.meta.url).pathname;

export function workspaces() {
  const { workspaces: patterns } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const dirs = [];
  for (const pattern of patterns) {
    if (pattern.endsWith("/*")) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const name of readdirSync(parent).sort()) dirs.push(join(parent, name));
    } else {
      dirs.push(join(root, pattern));
    }
  }
  return dirs
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }));
}

/** Packages that have tests, and where their vitest JSON report lands. */
export function testedPackages() {
  return workspaces()
    .filter(({ pkg }) => pkg.scripts?.test)
    .map(({ dir, pkg }) => ({ name: pkg.name, report: join(dir, "test-results", "vitest.json") }));
}
