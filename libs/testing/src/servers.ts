import net from "node:net";
import pg from "pg";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

export interface Servers {
  /** An admin connection URL (a database the harness may connect to in order to create others). */
  databaseUrl: string;
  natsUrl: string;
  /** Containers started as a fallback; stopped by `stop()`. */
  stop(): Promise<void>;
}

export class ServersUnavailableError extends Error {
  override name = "ServersUnavailableError";
}

async function postgresAnswers(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

function tcpAnswers(url: string): Promise<string | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(3000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("timed out");
    });
    socket.once("error", (err) => resolve(err.message));
  });
}

async function startContainers(needPg: boolean, needNats: boolean): Promise<Servers> {
  // Loaded lazily: the container runtime is only wanted where the servers are missing.
  const { GenericContainer, Wait } = await import("testcontainers");
  const stops: Array<() => Promise<unknown>> = [];
  let databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  let natsUrl = process.env.NATS_URL ?? DEFAULT_NATS_URL;
  if (needPg) {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const c = await new PostgreSqlContainer("postgres:15").start();
    stops.push(() => c.stop());
    databaseUrl = c.getConnectionUri();
  }
  if (needNats) {
    const c = await new GenericContainer("nats:2.10")
      .withCommand(["-js"])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    stops.push(() => c.stop());
    natsUrl = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
  }
  return {
    databaseUrl,
    natsUrl,
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
    },
  };
}

/**
 * The servers tests run against: `DATABASE_URL` / `NATS_URL` (or the local defaults); where
 * they do not answer and a Docker engine does, containers; otherwise one clear error.
 */
export async function resolveServers(): Promise<Servers> {
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const natsUrl = process.env.NATS_URL ?? DEFAULT_NATS_URL;
  const [pgProblem, natsProblem] = await Promise.all([
    postgresAnswers(databaseUrl),
    tcpAnswers(natsUrl),
  ]);
  if (!pgProblem && !natsProblem) return { databaseUrl, natsUrl, stop: async () => {} };
  try {
    return await startContainers(pgProblem !== null, natsProblem !== null);
  } catch (dockerErr) {
    const lines = ["The tests need PostgreSQL and NATS with JetStream, and could not reach them:"];
    if (pgProblem) lines.push(`- PostgreSQL at DATABASE_URL=${databaseUrl}: ${pgProblem}`);
    if (natsProblem) lines.push(`- NATS at NATS_URL=${natsUrl}: ${natsProblem}`);
    lines.push(
      `No Docker engine to start them in either (${(dockerErr as Error).message}).`,
      "Start them (see README.md, 'Prerequisites'), e.g.:",
      "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
      "  nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &",
      "or point DATABASE_URL / NATS_URL at servers that run.",
    );
    throw new ServersUnavailableError(lines.join("\n"));
  }
}
