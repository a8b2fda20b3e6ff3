import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const moduleDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const buf = join(
  dirname(createRequire(import.meta.url).resolve("@bufbuild/buf/package.json")),
  "bin",
  "buf",
);
const baseline = join(moduleDir, "baseline", "image.binpb");

async function copyModule(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "otmetka-proto-"));
  await cp(join(moduleDir, "otmetka"), join(dir, "otmetka"), { recursive: true });
  await cp(join(moduleDir, "buf.yaml"), join(dir, "buf.yaml"));
  return dir;
}

async function breaking(dir: string): Promise<{ code: number; output: string }> {
  try {
    const r = await run(buf, ["breaking", "--against", baseline], { cwd: dir });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe("buf breaking against the committed baseline", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("accepts the protos as they are", async () => {
    const dir = await copyModule();
    dirs.push(dir);
    expect(await breaking(dir)).toEqual({ code: 0, output: "" });
  });

  it("fails when a field number changes", async () => {
    const dir = await copyModule();
    dirs.push(dir);
    const file = join(dir, "otmetka/demo/v1/demo_service.proto");
    const source = await readFile(file, "utf8");
    const changed = source.replace("string text = 1;", "string text = 7;");
    expect(changed).not.toBe(source);
    await writeFile(file, changed);
    const result = await breaking(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/SendGreetingRequest/);
  });
});
