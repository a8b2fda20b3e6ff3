/**
 * The gateway's own CPU per single-mark `recordMark`, apart from grades and reporting:
 * the gateway as a process (`src/main.ts`, tracing at 1% as in bench:gateway) in front of
 * the fake identity and an instant fake grades (in this process), 64 keep-alive clients.
 * Prints CPU ms per mark of the gateway (user+system from /proc) beside a bare yoga `{ hello }`
 * process measured the same way. Run: `npx tsx src/bench/record-mark-cpu.ts`;
 * knobs MARKS (20000), CLIENTS (64), PROFILE_DIR (a V8 CPU profile of the gateway).
 *
 * VARIANTS compares gateways side by side in one run (run by run, a loaded machine's noise and
 * the rate, which changes the CPU a mark twofold, hide 10 % differences): `name[@dir][:K=V,…];…`
 * starts one gateway per variant (`dir`: another copy of services/gateway whose node_modules
 * resolve the build to compare, e.g. a symlink farm with an old @otmetka/service-kit; K=V: extra
 * environment) and sends the marks to them in turn, so each gets the same rate and neighbours.
 * `VARIANTS="a;b"` (the same build twice) agreed within 1 %.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { GradesServiceService } from "@otmetka/proto/grades/v1/grades_service";
import {
  freePort,
  postGraphql as post,
  startServiceProcess,
  startTestTokenIssuer,
  uniqueNatsPrefix,
} from "@otmetka/testing";
import { startFakeServices } from "../test-support/fake-services.js";
import { F } from "../test-support/fixture.js";

const MARKS = Number(process.env.MARKS ?? 20_000);
const CLIENTS = Number(process.env.CLIENTS ?? 64);
const PROFILE_DIR = process.env.PROFILE_DIR ?? "";
const here = fileURLToPath(new URL("../..", import.meta.url));

const cpuMs = (pid: number | undefined) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
};

async function load(n: number, op: () => Promise<unknown>) {
  let left = n;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (left-- > 0) await op();
    }),
  );
}

const issuer = await startTestTokenIssuer();
const fakes = await startFakeServices();
const grades = new grpc.Server();
let recorded = 0;
grades.addService(GradesServiceService, {
  recordMark: (_call: unknown, cb: (e: null, r: unknown) => void) =>
    cb(null, { replayed: false, markId: randomUUID(), weight: 1 }),
} as unknown as grpc.UntypedServiceImplementation);
const gradesPort = await new Promise<number>((res, rej) =>
  grades.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
    e ? rej(e) : res(p),
  ),
);
const helloPort = await freePort();
interface Variant {
  name: string;
  dir: string;
  env: Record<string, string>;
}
const variants: Variant[] = (process.env.VARIANTS ?? "gateway").split(";").map((v) => {
  const [head = "", vars = ""] = v.split(/:(.*)/s);
  const [name = "", dir = here] = head.split("@");
  const env = Object.fromEntries(
    vars
      .split(",")
      .filter(Boolean)
      .map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return { name, dir, env };
});
const startGateway = async (v: Variant) => {
  const port = await freePort();
  const proc = startServiceProcess({
    name: v.name,
    cwd: v.dir,
    env: {
      NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      NATS_PREFIX: uniqueNatsPrefix(),
      AUTH_JWKS_URL: issuer.jwksUrl,
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_MS: "100",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.01",
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
      GRPC_PORT: String(await freePort()),
      IDENTITY_GRPC_ADDRESS: fakes.address,
      CURRICULUM_GRPC_ADDRESS: fakes.address,
      REPORTING_GRPC_ADDRESS: fakes.address,
      GRADES_GRPC_ADDRESS: `127.0.0.1:${gradesPort}`,
      GATEWAY_RATE_LIMIT_PER_MINUTE: "1000000",
      // GW_<NAME>=value sets <NAME> for the gateway (e.g. GW_OTEL_SDK_DISABLED=true).
      ...Object.fromEntries(
        Object.entries(process.env)
          .filter(([k]) => k.startsWith("GW_"))
          .map(([k, val]) => [k.slice(3), val ?? ""]),
      ),
      ...v.env,
      ...(PROFILE_DIR
        ? {
            BENCH_PROFILE_DIR: PROFILE_DIR,
            NODE_OPTIONS: `--import=${fileURLToPath(new URL("../../../../tests/bench/src/lib/cpu-profile.mjs", import.meta.url))}`,
          }
        : {}),
    },
  });
  return { ...v, port, proc };
};
const gateways = await Promise.all(variants.map(startGateway));
const hello = startServiceProcess({
  name: "hello",
  cwd: here,
  entry: "src/bench/hello.ts",
  env: { HTTP_PORT: String(helloPort) },
});
try {
  for (const g of gateways) await g.proc.waitForOutput("gateway listening", 600_000);
  await hello.waitForOutput("hello listening", 600_000);
  const token = await issuer.sign({ roles: [`TEACHER@school:${F.s1}`], pid: F.t1 });
  // FIFO: every kept-alive socket is reused in turn, so none idles past the servers' 5 s
  // keep-alive timeout to be closed under a request (ECONNRESET on a loaded machine).
  const agent = new Agent({ keepAlive: true, maxSockets: 256, scheduling: "fifo" });
  const MARK = `mutation M($c: ID!, $i: RecordMarkInput!) { recordMark(commandId: $c, input: $i) { markId } }`;
  const values = ["MARK_VALUE_TWO", "MARK_VALUE_THREE", "MARK_VALUE_FOUR", "MARK_VALUE_FIVE"];
  let k = 0;
  // A connection reset (kept-alive sockets closed under a request on a loaded machine, or
  // another test resetting local connections) is retried, counted once: this measures CPU.
  let resets = 0;
  const retried = async (send: () => Promise<unknown>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await send();
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== "ECONNRESET" || attempt >= 3) throw err;
        resets++;
      }
    }
  };
  const mark = (port: number) => {
    const body = JSON.stringify({
      query: MARK,
      variables: {
        c: randomUUID(),
        i: {
          journal: { classGroupId: F.c1, subjectId: "math", academicYear: { startYear: 2026 } },
          lessonId: "lesson-1",
          mark: { studentId: F.p1, value: values[k++ % 4], workType: "ORAL" },
        },
      },
    });
    return retried(() => post(agent, port, body, token)).then(() => void recorded++);
  };
  const helloBody = JSON.stringify({ query: "{ hello }" });
  const cpuOf = (pids: (number | undefined)[]) => pids.map(cpuMs);
  const measure = async (
    names: string[],
    pids: (number | undefined)[],
    n: number,
    op: (i: number) => Promise<unknown>,
  ) => {
    let i = 0;
    const next = () => op(i++);
    await load(Math.min(2000, n), next); // warm-up
    i = 0;
    const c0 = cpuOf(pids);
    const t0 = performance.now();
    await load(n, next);
    const ms = performance.now() - t0;
    const c1 = cpuOf(pids);
    names.forEach((name, j) => {
      const each = n / names.length;
      process.stdout.write(
        `${name}: ${each} in ${(ms / 1000).toFixed(1)} s (${((each * 1000) / ms).toFixed(0)}/s), CPU ${(((c1[j] ?? 0) - (c0[j] ?? 0)) / each).toFixed(3)} ms each\n`,
      );
    });
  };
  const HELLOS = Number(process.env.HELLOS ?? MARKS);
  if (HELLOS > 0)
    await measure(["hello"], [hello.child.pid], HELLOS, () =>
      retried(() => post(agent, helloPort, helloBody)),
    );
  await measure(
    gateways.map((g) => (gateways.length > 1 ? `recordMark ${g.name}` : "recordMark")),
    gateways.map((g) => g.proc.child.pid),
    MARKS,
    (i) => mark(gateways[i % gateways.length]?.port ?? 0),
  );
  if (resets) process.stdout.write(`(${resets} requests retried after a connection reset)\n`);
  agent.destroy();
} catch (err) {
  // What the gateways said before the load failed (a crash, a refused request).
  for (const g of gateways)
    process.stderr.write(
      `${g.name} output (tail):\n${g.proc.stdout.slice(-3000)}\n${g.proc.stderr.slice(-3000)}\n`,
    );
  throw err;
} finally {
  await Promise.race([
    Promise.all(gateways.map((g) => g.proc.stop())),
    new Promise((r) => setTimeout(r, 10_000)),
  ]);
  await hello.stop();
  grades.forceShutdown();
  await fakes.stop();
  await issuer.stop();
}
