/*
 * Starts the bench's grades gRPC server in a process of its own (grades-server-process.ts),
 * as it runs in production: its CPU is then its own, apart from the load generator's.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type pg from "pg";

/** utime + stime of a process in ms (clock ticks of 10 ms). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU ms of each client backend of this database now (pid -> ms); not autovacuum, which
 * analyzes the freshly filled tables at random moments.
 */
export async function backendCpu(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, procCpuMs(pid));
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}

/** CPU ms the database's backends spent since `before` (backends started since count whole). */
export async function backendCpuSince(pool: pg.Pool, before: Map<number, number>): Promise<number> {
  let ms = 0;
  for (const [pid, cpu] of await backendCpu(pool)) ms += cpu - (before.get(pid) ?? 0);
  return ms;
}

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
