// Guards the repository's ground rules, so a slip is caught by `npm test`, not in review.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

function trackedFiles(pattern: string): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", pattern], {
    cwd: root,
  })
    .toString()
    .split("\n")
    .filter(Boolean);
}

const packageFiles = trackedFiles("*package.json").filter((f) => f !== "package.json");
const packages = packageFiles.map((f) => ({
  dir: dirname(f),
  pkg: JSON.parse(readFileSync(join(root, f), "utf8")),
}));

describe("repository conventions", () => {
  it("names every workspace package @otmetka/<folder>", () => {
    expect(packages.length).toBeGreaterThan(3);
    for (const { dir, pkg } of packages) {
      expect(pkg.name, dir).toBe(`@otmetka/${dir.split("/").pop()}`);
      expect(pkg.private, dir).toBe(true);
    }
  });

  it("pins every third-party dependency exactly", () => {
    const all = [{ dir: ".", pkg: rootPkg }, ...packages];
    for (const { dir, pkg } of all) {
      for (const field of ["dependencies", "devDependencies"]) {
        for (const [name, version] of Object.entries<string>(pkg[field] ?? {})) {
          if (name.startsWith("@otmetka/")) expect(version, `${dir} ${name}`).toBe("*");
          else expect(version, `${dir} ${name}`).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
        }
      }
    }
  });

  it("imports other packages through their exports, never through ../ out of the package", () => {
    const sources = trackedFiles("*.ts").filter((f) => !f.includes("/src/gen/"));
    const packageDirs = packages.map((p) => p.dir).sort((a, b) => b.length - a.length);
    const offenders: string[] = [];
    for (const file of sources) {
      const owner = packageDirs.find((d) => file.startsWith(`${d}/`));
      if (!owner) continue;
      const text = readFileSync(join(root, file), "utf8");
      for (const m of text.matchAll(/from\s+["'](\.\.?\/[^"']+)["']/g)) {
        const target = relative(root, resolve(root, dirname(file), m[1]!));
        if (!target.startsWith(`${owner}/`)) offenders.push(`${file} -> ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("has no skipped or focused tests", () => {
    const offenders = trackedFiles("*.test.ts").filter((f) =>
      /\b(it|test|describe)\.(skip|only)\(/.test(readFileSync(join(root, f), "utf8")),
    );
    expect(offenders).toEqual([]);
  });
});
