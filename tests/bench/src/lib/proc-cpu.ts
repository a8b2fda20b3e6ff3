/**
 * CPU time of processes (Linux /proc): the benches' services, PostgreSQL's backends and the
 * bench itself, for figures a busy machine distorts less than wall-clock rates.
 */
import { readFileSync } from "node:fs";
import type pg from "pg";

/** utime + stime of a process in ms (clock ticks of 10 ms); throws when it is gone. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** processCpuMs, or 0 for a process that has ended (or none). */
export function processCpuMsOrZero(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return processCpuMs(pid);
  } catch {
    return 0;
  }
}

/** user + system CPU ms of this process so far. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** user + system CPU seconds of this process so far. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
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
      out.set(pid, processCpuMs(pid));
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
