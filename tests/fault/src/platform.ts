// The services as processes on servers of their own: a private PostgreSQL (one database per
// service) and a private 3-node JetStream cluster with R3 streams. A supervisor restarts any
// service that exits, as Kubernetes restarts a crashed pod.
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  freePort,
  type PrivateNatsCluster,
  type PrivatePostgres,
  type ServiceProcess,
  startPrivateNatsCluster,
  startPrivatePostgres,
  startServiceProcess,
  startTestTokenIssuer,
  type TestTokenIssuer,
  uniqueNatsPrefix,
} from "@otmetka/testing";
import pg from "pg";

export const SERVICES = ["identity", "curriculum", "grades", "reporting"] as const;
export type ServiceName = (typeof SERVICES)[number];

const READY = "grpc server listening";
const serviceDir = (name: string) =>
  fileURLToPath(new URL(`../../../services/${name}`, import.meta.url));

export interface FaultPlatform {
  pg: PrivatePostgres;
  nats: PrivateNatsCluster;
  issuer: TestTokenIssuer;
  /** gRPC address of each service. */
  address: Record<ServiceName, string>;
  /** URL of each service's database. */
  databaseUrl: Record<ServiceName, string>;
  /** Restarts after an exit nobody asked for (crash on a lost dependency). */
  unplannedRestarts: Record<ServiceName, number>;
  /** SIGKILLs a service; the supervisor starts it again at once (see `ready`). */
  crash(name: ServiceName): Promise<void>;
  /** Resolves when every service listens again (after a dependency came back). */
  ready(timeoutMs?: number): Promise<void>;
  /** The last output of every service, for failure messages. */
  tails(): string;
  stop(): Promise<void>;
}

interface Supervised {
  proc: ServiceProcess;
  up: Promise<void>;
}

export async function startFaultPlatform(log: (msg: string) => void): Promise<FaultPlatform> {
  const databaseUrl = {} as Record<ServiceName, string>;
  // The databases are created while the NATS cluster is still forming.
  const postgres = startPrivatePostgres().then(async (server) => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      for (const name of SERVICES) {
        await admin.query(`CREATE DATABASE otmetka_${name}`);
        const u = new URL(server.url);
        u.pathname = `/otmetka_${name}`;
        databaseUrl[name] = u.toString();
      }
    } finally {
      await admin.end();
    }
    return server;
  });
  const [pgServer, nats, issuer] = await Promise.all([
    postgres,
    startPrivateNatsCluster(3),
    startTestTokenIssuer(),
  ]);
  log(`private PostgreSQL ${pgServer.url}, NATS cluster ${nats.url}`);

  const prefix = uniqueNatsPrefix();
  const address = {} as Record<ServiceName, string>;
  const env = {} as Record<ServiceName, Record<string, string>>;
  const identityHttp = await freePort();
  for (const name of SERVICES) {
    const port = await freePort();
    address[name] = `127.0.0.1:${port}`;
    env[name] = {
      DATABASE_URL: databaseUrl[name],
      NATS_URL: nats.url,
      NATS_PREFIX: prefix,
      NATS_STREAM_REPLICAS: "3",
      AUTH_JWKS_URL: issuer.jwksUrl,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(port),
      // Readiness is read from the "grpc server listening" line, logged at info.
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_MS: "0",
    };
  }
  Object.assign(env.identity, {
    IDENTITY_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    IDENTITY_BLIND_INDEX_KEY: randomBytes(32).toString("base64"),
    IDENTITY_HTTP_HOST: "127.0.0.1",
    IDENTITY_HTTP_PORT: String(identityHttp),
  });

  const unplannedRestarts = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<
    ServiceName,
    number
  >;
  const running = new Map<ServiceName, Supervised>();
  const planned = new Set<ServiceName>();
  let stopping = false;
  const launch = (name: ServiceName): Supervised => {
    // The built service (turbo builds it before this package's tests): restarts in seconds.
    const proc = startServiceProcess({
      name,
      cwd: serviceDir(name),
      entry: "dist/main.js",
      env: env[name],
    });
    const s: Supervised = { proc, up: proc.waitForOutput(READY, 180_000) };
    s.up.catch(() => undefined);
    running.set(name, s);
    void proc.exited.then(({ code, signal }) => {
      if (stopping) return;
      if (planned.delete(name)) {
        launch(name);
        return;
      }
      unplannedRestarts[name]++;
      const last = `${proc.stdout}\n${proc.stderr}`.trim().split("\n").slice(-3).join("\n");
      log(`${name} exited (${signal ?? code}); restarting. Its last lines:\n${last.slice(-3000)}`);
      setTimeout(() => !stopping && launch(name), 500);
    });
    return s;
  };
  for (const name of SERVICES) launch(name);
  const ready = async (timeoutMs = 180_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A service restarted meanwhile has a new entry: wait for the current ones.
      const current = SERVICES.map((n) => running.get(n) as Supervised);
      const ok = await Promise.all(
        current.map((s) =>
          s.up.then(
            () => true,
            () => false,
          ),
        ),
      );
      if (
        ok.every(Boolean) &&
        current.every((s, i) => running.get(SERVICES[i] as ServiceName) === s)
      )
        return;
      if (Date.now() > deadline) throw new Error(`services not ready in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await ready();
  log("services listening");

  return {
    pg: pgServer,
    nats,
    issuer,
    address,
    databaseUrl,
    unplannedRestarts,
    async crash(name) {
      const s = running.get(name);
      if (!s) throw new Error(`${name} is not running`);
      planned.add(name);
      await s.proc.stop("SIGKILL");
    },
    ready,
    tails: () =>
      SERVICES.map((n) => {
        const p = running.get(n)?.proc;
        return `--- ${n}\n${p?.stdout.slice(-1500) ?? ""}\n${p?.stderr.slice(-1500) ?? ""}`;
      }).join("\n"),
    async stop() {
      stopping = true;
      await Promise.all([...running.values()].map((s) => s.proc.stop("SIGKILL")));
      await issuer.stop();
      await nats.dispose();
      await pgServer.dispose();
    },
  };
}
