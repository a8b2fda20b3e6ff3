import { execFileSync } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { controlPrivateServer, type PrivateServer } from "./private-server.js";
import { freePort, ServerProcess, userIds } from "./process.js";

/**
 * `url` is the `postgres` database. `stop()` is a fast shutdown (SIGINT): open transactions are
 * rolled back, committed data kept; after `kill()` it recovers from its WAL on restart.
 */
export type PrivatePostgres = PrivateServer;

function postgresBinDir(): string {
  const fromEnv = process.env.POSTGRES_BIN_DIR;
  if (fromEnv) return fromEnv;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  }
  throw new Error(
    "PostgreSQL server binaries (initdb, postgres) were not found under /usr/lib/postgresql: " +
      "install Debian's postgresql package or set POSTGRES_BIN_DIR",
  );
}

/**
 * A PostgreSQL cluster of the test's own on a free port, for tests that kill or restart the
 * database. As root it runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), "otmetka-pg-"));
  const dataDir = join(dir, "data");
  const ids = process.getuid?.() === 0 ? userIds("postgres") : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  execFileSync(
    join(bin, "initdb"),
    ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
    { stdio: "pipe", ...ids },
  );
  const port = await freePort();
  const server = new ServerProcess(
    "postgres",
    join(bin, "postgres"),
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=on",
    ],
    { ...ids },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return controlPrivateServer({
    server,
    what: `private postgres on port ${port}`,
    url,
    port,
    ready: async () => {
      // After a kill, orphaned backends may hold the old shared memory for a moment and
      // the first start exits; start again until it stays up.
      if (!server.running) server.start();
      const c = new pg.Client({ connectionString: url });
      try {
        await c.connect();
        await c.query("select 1");
        return true;
      } finally {
        await c.end().catch(() => {});
      }
    },
    stopSignal: "SIGINT",
    dir,
  });
}
