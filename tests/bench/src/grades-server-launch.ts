/*
 * Starts the bench's grades gRPC server in a process of its own (grades-server-process.ts),
 * as it runs in production: its CPU is then its own, apart from the load generator's.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type GradesServerProcess = Awaited<ReturnType<typeof startGradesServerProcess>>;

/**
 * `root`: a copy of the workspace packages' dists (an earlier build) to load the server from
 * instead of this checkout's.
 */
export async function startGradesServerProcess(
  databaseUrl: string,
  jwksUrl: string,
  root?: string,
) {
  const args = ["--import", "tsx", new URL("./grades-server-process.ts", import.meta.url).pathname];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      JWKS_URL: jwksUrl,
      ...(root
        ? { GRADES_BENCH_MODULE: `${root}/services/grades/dist/bench/journal-fill.js` }
        : {}),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`grades server exited (${code})`)));
    lines.once("line", (l) => resolve(JSON.parse(l).port));
  });
  let statements = Number.NaN;
  lines.on("line", (l) => {
    const m = JSON.parse(l);
    if (typeof m.statements === "number") statements = m.statements;
  });
  const exited = new Promise((r) => child.once("exit", r));
  return {
    pid: child.pid as number,
    port,
    /** Starts counting statements (and profiling, with CPU_PROFILE_DIR). */
    startMeasuring: () => child.kill("SIGUSR2"),
    /** Stops the server; the statements it sent since startMeasuring. */
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      return statements;
    },
  };
}
