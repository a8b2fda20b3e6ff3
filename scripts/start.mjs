// `npm start`: builds what is missing, brings up PostgreSQL and NATS (embedded fallbacks under
// .otmetka/), starts identity first and waits for its JWKS, wires service accounts, starts every
// other service and the gateway as supervised children with coloured prefixed logs, seeds the
// demo region on first start and prints the logins. Ctrl-C stops everything.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ensureNats,
  ensurePostgres,
  portOpen,
  serviceDatabaseUrl,
  stateDir,
  waitFor,
} from "./platform/infra.mjs";
import { layout } from "./platform/layout.mjs";
import { loadSecrets, saveSecrets } from "./platform/secrets.mjs";
import { createSupervisor, platformRssMb } from "./platform/supervisor.mjs";
import { root, workspaces } from "./workspaces.mjs";

const secrets = loadSecrets();
// OTMETKA_SKIP_BUILD=1: the caller built already (the tests/e2e school day runs inside turbo).
if (process.env.OTMETKA_SKIP_BUILD !== "1") {
  const build = spawnSync("npx", ["turbo", "run", "build", "--output-logs=errors-only"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const { ensureServiceAccounts } = await import("./platform/identity.mjs");
const { exampleQuery } = await import("./seed/plan.mjs");
const services = workspaces().filter(
  ({ dir, pkg }) =>
    dir.includes("/services/") && pkg.scripts?.start && existsSync(join(dir, "dist")),
);
const nameOf = ({ pkg }) => pkg.name.replace("@otmetka/", "");
const { ports } = layout;

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
  const jwks = process.env.AUTH_JWKS_URL ?? layout.jwksUrl;
  const envFor = (name) => ({
    ...secrets,
    ...layout.addresses,
    ...process.env,
    ...layout.portEnv(name),
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
    // OTMETKA_SEED_ARGS: other options than the default demo (e.g. a smaller one in tests).
    const args = (process.env.OTMETKA_SEED_ARGS ?? "").split(/\s+/).filter(Boolean);
    console.log(`first start: seeding the demo region (npm run seed -- ${args.join(" ")})`);
    const { runSeed } = await import("./seed/run.mjs");
    const { parseOptions } = await import("./seed/plan.mjs");
    await runSeed({ secrets, save: saveSecrets, options: parseOptions(args) });
    mkdirSync(stateDir, { recursive: true });
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
      `  ${nameOf(s).padEnd(11)} ${nameOf(s) === "gateway" ? layout.graphqlUrl : `grpc 127.0.0.1:${ports[nameOf(s)]}`}`,
    );
  console.log(`\nGraphQL: ${layout.graphqlUrl}`);
  console.log(
    `logins and a query each role may run (passwords in ${join(stateDir, "dev-secrets.json")}):`,
  );
  const logins = [
    {
      role: "PLATFORM_ADMIN",
      username: "admin",
      password: secrets.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD,
      query: exampleQuery("PLATFORM_ADMIN"),
    },
    ...(secrets.DEMO_LOGINS ?? []),
  ];
  for (const l of logins) {
    console.log(`  ${l.role.padEnd(17)} ${l.username} / ${l.password}`);
    if (l.query) console.log(`    ${l.query}`);
  }
  console.log(
    `log in: mutation { login(commandId: "<any uuid>", input: { username: "…", password: "…" }) { tokens { accessToken refreshToken } } }` +
      " → tokens.accessToken, sent as `authorization: Bearer <token>`",
  );
  console.log("Ctrl-C stops everything; the next start reuses the data.\n");
}
