/*
 * Starts the bench's grades gRPC server in a process of its own (grades-server-process.ts),
 * as it runs in production: its CPU is then its own, apart from the load generator's.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** What the server process did since `startMeasuring` (grades-server-process.ts). */
export interface ServerReport {
  statements: number;
  /** Garbage collection pauses (ms): all, and the major ones apart. */
  gc?: { ms: number; majorMs: number; majors: number };
  /** Heap in use at the end (MB): the cached journals, mostly. */
  heapMb?: number;
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
  // GRADES_SERVER_NODE_FLAGS: node flags for the server alone (e.g. --trace-gc); what they
  // print to stdout is passed on to stderr.
  const flags = process.env.GRADES_SERVER_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
  const args = [
    ...flags,
    "--import",
    "tsx",
    new URL("./grades-server-process.ts", import.meta.url).pathname,
  ];
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
  let report: ServerReport = { statements: Number.NaN };
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`grades server exited (${code})`)));
    lines.on("line", (l) => {
      if (!l.startsWith("{")) {
        process.stderr.write(`[grades server] ${l}\n`);
        return;
      }
      const m = JSON.parse(l);
      if (typeof m.port === "number") resolve(m.port);
      if (typeof m.statements === "number") report = m;
    });
  });
  const exited = new Promise((r) => child.once("exit", r));
  return {
    pid: child.pid as number,
    port,
    /** Starts counting statements (and profiling, with CPU_PROFILE_DIR). */
    startMeasuring: () => child.kill("SIGUSR2"),
    /** Stops the server; what it did since startMeasuring. */
    stop: async (): Promise<ServerReport> => {
      child.kill("SIGTERM");
      await exited;
      return report;
    },
  };
}
