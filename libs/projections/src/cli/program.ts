import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError } from "commander";
import pg from "pg";
import { InvalidProjectionDefinition, UnknownProjection } from "../errors.js";
import type { Projection } from "../projection.js";
import { rebuildProjection } from "../rebuild.js";
import { DEFAULT_MAX_SET_ASIDE, describeSetAside, readSetAside } from "../set-aside.js";

export interface ProjectionsCliOptions {
  /** The projections the command may rebuild; or loaded per call with `--module`. */
  projections?: readonly Projection<any>[];
  env?: NodeJS.ProcessEnv;
  /** Where the progress bar and the summary go; default stderr / stdout. */
  out?: NodeJS.WriteStream;
}

/** An option's integer argument of at least `min`; commander's error names the option. */
const integerAtLeast = (min: number) => (v: string) => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < min)
    throw new InvalidArgumentError(`must be an integer >= ${min}`);
  return n;
};

function requireEnv(env: NodeJS.ProcessEnv, name: string, fallback?: string): string {
  const v = env[name] || fallback;
  if (!v) throw new InvalidProjectionDefinition(name, "must be set (environment variable)");
  return v;
}

async function loadProjections(module: string): Promise<Projection<any>[]> {
  const url = new URL(module, `file://${process.cwd()}/`).href;
  const m = (await import(url)) as { projections?: Projection<any>[]; default?: unknown };
  const list = m.projections ?? m.default;
  if (!Array.isArray(list)) {
    throw new InvalidProjectionDefinition(
      "--module",
      `must export \`projections\` (an array of projections), ${module} does not`,
    );
  }
  return list as Projection<any>[];
}

/**
 * `otmetka-projections rebuild <projection>` and `set-aside <projection>`: a commander
 * program services can embed.
 */
export function projectionsProgram(o: ProjectionsCliOptions = {}): Command {
  const env = o.env ?? process.env;
  const program = new Command("otmetka-projections").description(
    "Operate otmetka read models (env: DATABASE_URL, NATS_URL, NATS_PREFIX)",
  );
  program
    .command("rebuild")
    .description("build a new version of a read model from sequence 1 and swap it in")
    .argument("<projection>", "projection name")
    .option("-m, --module <path>", "ES module exporting `projections`")
    .option("-b, --batch-size <n>", "events per transaction", integerAtLeast(1), 10_000)
    .option(
      "--max-set-aside <n>",
      "events the rebuild may set aside before it fails with SetAsideLimitReached " +
        `(default: the projection's maxSetAside, else ${DEFAULT_MAX_SET_ASIDE}; 0: none, ` +
        "the first refused event fails the rebuild)",
      integerAtLeast(0),
    )
    .option("--keep-old", "keep the replaced version as proj_<name>__v<N>_retired", false)
    .option("--no-progress", "no progress bar")
    .action(async (name: string, opts) => {
      const list = opts.module ? await loadProjections(opts.module) : (o.projections ?? []);
      const projection = list.find((p) => p.name === name);
      if (!projection)
        throw new UnknownProjection(
          name,
          list.map((p) => p.name),
        );
      const pool = new pg.Pool({ connectionString: requireEnv(env, "DATABASE_URL"), max: 3 });
      const nc = await connect({ servers: requireEnv(env, "NATS_URL", "nats://127.0.0.1:4222") });
      const bar = new cliProgress.SingleBar(
        {
          format: "{phase} |{bar}| {value}/{total} events | {rate} ev/s | eta {eta_formatted}",
          stream: o.out ?? process.stderr,
          noTTYOutput: opts.progress && !(o.out ?? process.stderr).isTTY,
          notTTYSchedule: 1000,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      const started = Date.now();
      let barOn = false;
      try {
        const result = await rebuildProjection({
          projection,
          pool,
          nc,
          names: messagingNames(env.NATS_PREFIX),
          batchSize: opts.batchSize,
          keepOld: opts.keepOld,
          maxSetAside: opts.maxSetAside,
          onSetAside: (e) => {
            (o.out ?? process.stderr).write(`\nwarning: ${describeSetAside(e)}\n`);
          },
          onProgress: (p) => {
            if (!opts.progress) return;
            const rate = Math.round(p.read / Math.max(0.001, (Date.now() - started) / 1000));
            if (!barOn) {
              bar.start(p.total, p.read, { phase: p.phase, rate });
              barOn = true;
            }
            bar.setTotal(p.total);
            bar.update(p.read, { phase: p.phase, rate });
          },
        });
        if (barOn) bar.stop();
        const line =
          `rebuilt ${projection.name} v${projection.version}: ${result.events} events in ${result.batches} batches, ` +
          `${(result.durationMs / 1000).toFixed(1)} s; swapped in at ${result.swappedAt.toISOString()}` +
          ` (replaced v${result.replacedVersion}${result.retired ? `, kept as ${result.retired}` : ""})` +
          (result.setAside > 0
            ? `; ${result.setAside} events set aside (otmetka-projections set-aside ${projection.name})`
            : "");
        process.stdout.write(`${line}\n`);
      } finally {
        if (barOn) bar.stop();
        await nc.close();
        await pool.end();
      }
    });
  program
    .command("set-aside")
    .description(
      "list the events a read model set aside (PostgreSQL refused to store them), oldest first",
    )
    .argument("<projection>", "projection name")
    .option("-m, --module <path>", "ES module exporting `projections` (checks the name)")
    .option("--json", "one JSON object a line", false)
    .action(async (name: string, opts: { json: boolean; module?: string }) => {
      const list = opts.module ? await loadProjections(opts.module) : (o.projections ?? []);
      if (list.length > 0 && !list.some((p) => p.name === name)) {
        throw new UnknownProjection(
          name,
          list.map((p) => p.name),
        );
      }
      const pool = new pg.Pool({ connectionString: requireEnv(env, "DATABASE_URL"), max: 1 });
      try {
        const rows = await readSetAside(pool, name);
        const lines = opts.json
          ? rows.map((r) => JSON.stringify(r))
          : rows.map(
              (r) =>
                `${r.setAsideAt.toISOString()}  ${r.source}#${r.sequence}  ${r.eventId}  ${r.type}  ` +
                `stream ${r.streamId} v${r.version}  ${r.sqlstate} ${r.message}`,
            );
        if (!opts.json) lines.push(`${rows.length} events set aside in proj_${name}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await pool.end();
      }
    });
  return program;
}
