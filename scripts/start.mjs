// `npm start`: builds what is missing, brings up PostgreSQL and NATS (embedded fallbacks under
// .otmetka/), starts identity first and waits for its JWKS, wires service accounts, starts every
// other service and the gateway as supervised children with coloured prefixed logs, seeds the
// demo region on first start and prints the logins. Ctrl-C stops everything.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ensureNats,
  ensurePostgres,
  portOpen,
  serviceDatabaseUrl,
  stateDir,
  waitFor,
} from "./platform/infra.mjs";
import { loadSecrets, saveSecrets } from "./platform/secrets.mjs";
import { createSupervisor, platformRssMb } from "./platform/supervisor.mjs";
import { root, workspaces } from "./workspaces.mjs";

const secrets = loadSecrets();
const build = spawnSync("npx", ["turbo", "run", "build", "--output-logs=errors-only"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
if (build.status !== 0) process.exit(build.status ?? 1);

const { ensureServiceAccounts } = await import("./platform/identity.mjs");
const services = workspaces().filter(
  ({ dir, pkg }) =>
    dir.includes("/services/") && pkg.scripts?.start && existsSync(join(dir, "dist")),
);
const nameOf = ({ pkg }) => pkg.name.replace("@otmetka/", "");
const ports = {
  identity: 50051,
  curriculum: 50052,
  grades: 50053,
  reporting: 50054,
  portal: 50055,
  demo: 50050,
  gateway: 4000,
};

let pg;
let nats;
const supervisor = createSupervisor();
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await supervisor.stopAll();
  await nats?.stop();
  await pg?.stop();
  process.exit(code);
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

try {
  pg = await ensurePostgres(
    process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  );
  nats = await ensureNats(process.env.NATS_URL ?? "nats://127.0.0.1:4222");
  const jwks = process.env.AUTH_JWKS_URL ?? "http://127.0.0.1:50061/.well-known/jwks.json";
  const envFor = (name) => ({
    ...secrets,
    ...process.env,
    // Each service owns one database on the same server; DATABASE_URL names the server.
    DATABASE_URL: serviceDatabaseUrl(pg.url, name),
    NATS_URL: nats.url,
    AUTH_JWKS_URL: jwks,
  });
  const byName = new Map(services.map((s) => [nameOf(s), s]));
  const identity = byName.get("identity");
  if (!identity) throw new Error("services/identity is missing");
  supervisor.run(identity, envFor("identity"));
  await waitFor(async () => (await fetch(jwks).catch(() => null))?.ok === true, {
    what: "identity's JWKS",
    timeoutMs: 120_000,
  });
  await ensureServiceAccounts(secrets, saveSecrets);
  for (const s of services) if (s !== identity) supervisor.run(s, envFor(nameOf(s)));
  await waitFor(
    async () =>
      (await Promise.all(services.map((s) => portOpen("127.0.0.1", ports[nameOf(s)] ?? 0)))).every(
        Boolean,
      ),
    { what: "the services", timeoutMs: 120_000 },
  );
  const marker = join(stateDir, "seeded");
  if (!existsSync(marker) && process.env.OTMETKA_NO_SEED !== "1") {
    console.log("first start: seeding the demo region (npm run seed)");
    const { runSeed } = await import("./seed/run.mjs");
    await runSeed({ secrets, save: saveSecrets });
    writeFileSync(marker, `${new Date().toISOString()}\n`);
  }
  printSummary();
  // Idle memory once the platform has settled after start (and the seed).
  setTimeout(
    () => console.log(`platform idle RSS: ${platformRssMb(supervisor.pids(), [nats.pid])} MB`),
    15_000,
  );
} catch (err) {
  console.error(`npm start failed: ${err.message}`);
  await stop(1);
}

function printSummary() {
  console.log("\notmetka is up");
  for (const s of services)
    console.log(
      `  ${nameOf(s).padEnd(11)} ${nameOf(s) === "gateway" ? "http://127.0.0.1:4000/graphql" : `grpc 127.0.0.1:${ports[nameOf(s)]}`}`,
    );
  console.log("\nGraphQL: http://127.0.0.1:4000/graphql");
  console.log(`logins (passwords in ${join(stateDir, "dev-secrets.json")}):`);
  console.log(`  PLATFORM_ADMIN    admin / ${secrets.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD}`);
  for (const l of secrets.DEMO_LOGINS ?? [])
    console.log(`  ${l.role.padEnd(17)} ${l.username} / ${l.password}`);
  console.log("Ctrl-C stops everything; the next start reuses the data.\n");
}
