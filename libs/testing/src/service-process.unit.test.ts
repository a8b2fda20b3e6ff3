import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServiceProcess } from "./service-process.js";

describe("startServiceProcess", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "otmetka-svc-"));
    // A stand-in service: prints its env, exits 0 on SIGTERM, says ready. The handler comes
    // before "ready" (as in a real service): a stop sent on "ready" must find it installed.
    await writeFile(
      join(dir, "main.ts"),
      [
        'const answer: string = process.env.ANSWER ?? "none";',
        'console.log("answer=" + answer + " leaked=" + (process.env.LEAK ?? "no"));',
        'process.on("SIGTERM", () => process.exit(0));',
        "setInterval(() => {}, 1000);",
        'setImmediate(() => console.log("ready"));',
      ].join("\n"),
    );
    await writeFile(join(dir, "crash.ts"), 'console.error("boom"); process.exit(3);\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("runs a TypeScript entry with only the given variables and stops it", async () => {
    process.env.LEAK = "yes";
    const svc = startServiceProcess({
      name: "stand-in",
      cwd: dir,
      entry: "main.ts",
      env: { ANSWER: "42" },
    });
    await svc.waitForOutput("ready", 30_000);
    expect(svc.stdout).toContain("answer=42 leaked=no");
    expect(await svc.stop()).toEqual({ code: 0, signal: null });
    delete process.env.LEAK;
  });

  it("rejects a wait when the process exits first, with its output", async () => {
    const svc = startServiceProcess({ name: "crasher", cwd: dir, entry: "crash.ts", env: {} });
    await expect(svc.waitForOutput("ready", 30_000)).rejects.toThrow(
      /crasher exited before "ready"[\s\S]*boom/,
    );
    expect((await svc.exited).code).toBe(3);
  });
});
