/*
 * Reporting's live projection alone in a process, as the reporting service runs it apart from
 * grades (whose appends and outbox relay stay in the bench process). Env: DATABASE_URL (the
 * read model's database), NATS_URL, NATS_PREFIX, BENCH_LINGER_MS (the runner's lingerMs),
 * CPU_PROFILE_DIR (a V8 CPU profile from `ready`
 * to SIGTERM, written to <dir>/reporting-<pid>.cpuprofile). Prints `ready` once consuming; on
 * SIGTERM it stops and prints its CPU ms (`{"cpuMs":N}`) before exiting.
 */
import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { reportingProjection } from "@otmetka/reporting/bench";
import pg from "pg";
import { processProfiler } from "./process-profiler.js";
import { lingerOption } from "./reporting-runner-launch.js";

const nc = await connect({ servers: process.env.NATS_URL });
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 6 });
const runner = await new ProjectionRunner({
  projection: reportingProjection,
  pool,
  nc,
  names: messagingNames(process.env.NATS_PREFIX),
  ...lingerOption(),
  onError: (err, where) => process.stderr.write(`reporting runner (${where}): ${err}\n`),
}).start();
const profiler = processProfiler(process.env.CPU_PROFILE_DIR, "reporting", "now");
const cpu0 = process.cpuUsage();
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void (async () => {
    const u = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })}\n`);
    await profiler.write();
    await runner.stop().catch(() => {});
    await pool.end().catch(() => {});
    await nc.close().catch(() => {});
    process.exit(0);
  })();
});
