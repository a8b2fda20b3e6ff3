// The watchdog of every package's `npm test` (scripts/vitest-run.mjs), on stand-in commands.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

// scripts/ is plain ESM without types: imported by a computed path, as platform-layout does.
const watchdogPath = new URL("../../scripts/vitest-run.mjs", import.meta.url).href;
const { runWithWatchdog } = (await import(watchdogPath)) as {
  runWithWatchdog(
    command: string,
    args: string[],
    o: { cwd: string; idleMs: number; attempts?: number; log(line: string): void },
  ): Promise<number>;
};

const dir = mkdtempSync(join(tmpdir(), "vitest-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let scripts = 0;
/** Runs `code` as a script file under the watchdog. */
// Idle limits well above a node start-up on a loaded machine (the suite runs under load).
const run = (code: string, idleMs = 10_000) => {
  const file = join(dir, `stand-in-${++scripts}.cjs`);
  writeFileSync(file, code);
  const lines: string[] = [];
  const done = runWithWatchdog(process.execPath, [file], {
    cwd: dir,
    idleMs,
    log: (l) => lines.push(l),
  });
  return done.then((code) => ({ code, lines }));
};

it("passes a run's exit code through and does not run it again", async () => {
  expect(await run("console.log('ok')")).toEqual({ code: 0, lines: [] });
  expect(await run("console.log('failing'); process.exit(3)")).toEqual({ code: 3, lines: [] });
});

it("a run that keeps printing is not a stall, however long it takes", async () => {
  const r = await run(
    "let n = 0; const t = setInterval(() => { console.log(n); if (++n === 20) clearInterval(t) }, 250)",
    3_000,
  );
  expect(r).toEqual({ code: 0, lines: [] });
});

it("kills a silent run with its children, starts it once more, and fails on a second stall", async () => {
  // The stand-in starts a child of its own (like vitest's workers) that would write a file
  // if it outlived the kill.
  const marker = join(dir, "orphan");
  const orphan = join(dir, "orphan.cjs");
  writeFileSync(
    orphan,
    `setTimeout(() => require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x"), 5000);`,
  );
  const r = await run(
    `require("node:child_process").spawn(process.execPath, [${JSON.stringify(orphan)}], { stdio: "ignore" });
     setInterval(() => {}, 1000);`,
    2_000,
  );
  expect(r.code).toBe(1);
  expect(r.lines).toHaveLength(2);
  expect(r.lines[0]).toMatch(/no output for 2 s .* the runner stalled; killed, starting it again/);
  expect(r.lines[1]).toMatch(/killed, giving up/);
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(existsSync(marker)).toBe(false);
}, 20_000);

it("a stall followed by a good run passes", async () => {
  const flag = join(dir, "second");
  const script = `const fs = require("node:fs"); if (fs.existsSync(${JSON.stringify(flag)})) { console.log("ran"); } else { fs.writeFileSync(${JSON.stringify(flag)}, "1"); setInterval(() => {}, 1000); }`;
  const r = await run(script, 2_000);
  expect(r.code).toBe(0);
  expect(r.lines).toHaveLength(1);
}, 20_000);
