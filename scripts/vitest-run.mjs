// Every package's `npm test`: `vitest run` under a watchdog. Under the full suite's load,
// vitest 4.1's forks pool has stalled once with its only worker idle and the runner waiting
// for it (no test running, no timer pending: the test and hook timeouts never fire), which
// would hold CI until its limit. A run that prints nothing for VITEST_IDLE_MINUTES (default
// 8: longer than any test file here takes) is killed with its workers and started once more;
// a second stall, like any failing run, fails the package.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Runs `command args` in `cwd`, passing its output through; kills it (its whole process
 * group) after `idleMs` without output and tries again, `attempts` times in all. Resolves
 * with the exit code of the last attempt (1 for a stall).
 */
export async function runWithWatchdog(command, args, { cwd, idleMs, attempts = 2, log }) {
  for (let attempt = 1; ; attempt++) {
    const code = await runOnce(command, args, cwd, idleMs);
    if (code !== "stalled") return code;
    log(
      `[vitest-run] no output for ${Math.round(idleMs / 1000)} s in ${cwd}: the runner stalled; ` +
        (attempt < attempts ? "killed, starting it again" : "killed, giving up"),
    );
    if (attempt >= attempts) return 1;
  }
}

// The run in progress: its own process group is out of reach of a Ctrl-C or a cancelled job,
// so the signal is passed on to it (below).
let current;

function runOnce(command, args, cwd, idleMs) {
  return new Promise((resolve) => {
    // Its own process group, so that a stall takes its workers down with it.
    const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    current = child;
    let stalled = false;
    let timer;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, idleMs);
    };
    child.stdout.on("data", (d) => {
      arm();
      process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      arm();
      process.stderr.write(d);
    });
    arm();
    child.on("close", (code) => {
      clearTimeout(timer);
      // No code means a signal ended it: a failure.
      resolve(stalled ? "stalled" : (code ?? 1));
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const signal of ["SIGINT", "SIGTERM"])
    process.on(signal, () => {
      try {
        if (current) process.kill(-current.pid, signal);
      } catch {
        // already gone
      }
      process.exit(130);
    });
  const minutes = Number(process.env.VITEST_IDLE_MINUTES ?? 8);
  const code = await runWithWatchdog("npx", ["vitest", "run", ...process.argv.slice(2)], {
    cwd: process.cwd(),
    idleMs: minutes * 60_000,
    log: (line) => console.error(line),
  });
  process.exit(code);
}
