/**
 * The gateway's own CPU per single-mark `recordMark`, apart from grades and reporting:
 * the gateway as a process (`src/main.ts`, tracing at 1% as in bench:gateway) in front of
 * the fake identity and an instant fake grades (in this process), 64 keep-alive clients.
 * Prints CPU ms per mark of the gateway (user+system from /proc) beside a bare yoga `{ hello }`
 * process measured the same way. Run: `npx tsx src/bench/record-mark-cpu.ts`;
 * knobs MARKS (20000), CLIENTS (64), PROFILE_DIR (a V8 CPU profile of the gateway).
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
const gwPort = await freePort();
const helloPort = await freePort();
const gateway = startServiceProcess({
  name: "gateway",
  cwd: here,
  env: {
    NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    NATS_PREFIX: uniqueNatsPrefix(),
    AUTH_JWKS_URL: issuer.jwksUrl,
    LOG_LEVEL: "info",
    SHUTDOWN_GRACE_MS: "100",
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.01",
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(gwPort),
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
        .map(([k, v]) => [k.slice(3), v ?? ""]),
    ),
    ...(PROFILE_DIR
      ? {
          BENCH_PROFILE_DIR: PROFILE_DIR,
          NODE_OPTIONS: `--import=${fileURLToPath(new URL("../../../../tests/bench/src/lib/cpu-profile.mjs", import.meta.url))}`,
        }
      : {}),
  },
});
const hello = startServiceProcess({
  name: "hello",
  cwd: here,
  entry: "src/bench/hello.ts",
  env: { HTTP_PORT: String(helloPort) },
});
try {
  await gateway.waitForOutput("gateway listening", 600_000);
  await hello.waitForOutput("hello listening", 600_000);
  const token = await issuer.sign({ roles: [`TEACHER@school:${F.s1}`], pid: F.t1 });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const MARK = `mutation M($c: ID!, $i: JSONObject!) { recordMark(commandId: $c, input: $i) }`;
  const values = ["MARK_VALUE_TWO", "MARK_VALUE_THREE", "MARK_VALUE_FOUR", "MARK_VALUE_FIVE"];
  let k = 0;
  const mark = () =>
    post(
      agent,
      gwPort,
      JSON.stringify({
        query: MARK,
        variables: {
          c: randomUUID(),
          i: {
            journal: { classGroupId: F.c1, subjectId: "math", academicYear: { startYear: 2026 } },
            lessonId: "lesson-1",
            mark: { studentId: F.p1, value: values[k++ % 4], workType: "ORAL" },
          },
        },
      }),
      token,
    ).then(() => void recorded++);
  const helloBody = JSON.stringify({ query: "{ hello }" });
  const measure = async (
    name: string,
    pid: number | undefined,
    n: number,
    op: () => Promise<unknown>,
  ) => {
    await load(Math.min(2000, n), op); // warm-up
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    await load(n, op);
    const ms = performance.now() - t0;
    const cpu = cpuMs(pid) - c0;
    process.stdout.write(
      `${name}: ${n} in ${(ms / 1000).toFixed(1)} s (${((n * 1000) / ms).toFixed(0)}/s), CPU ${(cpu / n).toFixed(3)} ms each\n`,
    );
  };
  const HELLOS = Number(process.env.HELLOS ?? MARKS);
  if (HELLOS > 0)
    await measure("hello", hello.child.pid, HELLOS, () => post(agent, helloPort, helloBody));
  await measure("recordMark", gateway.child.pid, MARKS, mark);
  agent.destroy();
} finally {
  await Promise.race([gateway.stop(), new Promise((r) => setTimeout(r, 10_000))]);
  await hello.stop();
  grades.forceShutdown();
  await fakes.stop();
  await issuer.stop();
}
