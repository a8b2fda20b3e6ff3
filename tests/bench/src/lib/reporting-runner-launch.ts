/*
 * Starts reporting's live projection in a process of its own (reporting-runner-process.ts):
 * in production the reporting service and grades (appends, outbox relay) are separate
 * processes, and in one process each one's work delayed the other's on the event loop.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** The runner's `lingerMs` from BENCH_LINGER_MS (its default when unset). */
export function lingerOption(): { lingerMs?: number } {
  const raw = process.env.BENCH_LINGER_MS;
  return raw === undefined || raw === "" ? {} : { lingerMs: Number(raw) };
}

export interface RunnerProcess {
  pid: number;
  /** Stops the runner; resolves with the CPU ms the process spent while consuming. */
  stop(): Promise<number>;
}

export async function startReportingRunnerProcess(
  databaseUrl: string,
  natsUrl: string,
  natsPrefix: string,
): Promise<RunnerProcess> {
  const script = new URL("./reporting-runner-process.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, DATABASE_URL: databaseUrl, NATS_URL: natsUrl, NATS_PREFIX: natsPrefix },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let cpuMs = Number.NaN;
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`reporting runner exited (${code})`)));
    lines.on("line", (l) => {
      if (l === "ready") resolve();
      else if (l.startsWith("{")) cpuMs = (JSON.parse(l) as { cpuMs: number }).cpuMs;
    });
  });
  return {
    pid: child.pid as number,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      return cpuMs;
    },
  };
}
