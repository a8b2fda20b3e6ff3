import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { natsOnPort, natsServerBinary } from "./private-nats.js";
import { controlPrivateServer } from "./private-server.js";
import { freePort, ServerProcess, waitFor } from "./process.js";

export interface PrivateNatsNode {
  readonly name: string;
  readonly url: string;
  readonly running: boolean;
  /** Crashes the node (SIGKILL); its JetStream store is kept for `restart()`. */
  kill(): Promise<void>;
  /** Stops it gracefully (SIGTERM, lame-duck first); the store is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and store; it rejoins the cluster. */
  restart(): Promise<void>;
}

export interface PrivateNatsCluster {
  /** All client URLs, comma-separated: what NATS_URL takes for a cluster. */
  url: string;
  nodes: PrivateNatsNode[];
  /** Resolves when the cluster can place a stream with one replica on every server. */
  jetStreamReady(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes the stores. */
  dispose(): Promise<void>;
}

function nodeConfig(o: {
  name: string;
  port: number;
  clusterPort: number;
  routes: number[];
  storeDir: string;
}): string {
  return `server_name: ${o.name}
listen: 127.0.0.1:${o.port}
jetstream { store_dir: "${o.storeDir}" }
cluster {
  name: otmetka-test
  listen: 127.0.0.1:${o.clusterPort}
  routes: [${o.routes.map((p) => `nats-route://127.0.0.1:${p}`).join(", ")}]
}
`;
}

/**
 * A JetStream cluster of `size` `nats-server` processes on loopback, on free ports, each with
 * its own store: for tests that kill a node and check R3 streams lose nothing. The shared
 * server is never touched. Resolves once every node answers and the cluster has formed.
 */
export async function startPrivateNatsCluster(size = 3): Promise<PrivateNatsCluster> {
  const bin = natsServerBinary();
  const root = await mkdtemp(join(tmpdir(), "otmetka-nats-cluster-"));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const clusterPorts: number[] = [];
  for (let i = 0; i < size; i++) {
    let p = await freePort();
    while (ports.includes(p) || clusterPorts.includes(p)) p = await freePort();
    clusterPorts.push(p);
  }
  const nodes: PrivateNatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const file = join(dir, "server.conf");
    await writeFile(
      file,
      nodeConfig({
        name,
        port: ports[i] as number,
        clusterPort: clusterPorts[i] as number,
        routes: clusterPorts.filter((_, j) => j !== i),
        storeDir: join(dir, "js"),
      }),
    );
    const server = new ServerProcess(`nats-server ${name}`, bin, ["-c", file]);
    const port = ports[i] as number;
    const node = await controlPrivateServer({
      server,
      what: `private nats-server ${name} on port ${port}`,
      ...natsOnPort(port),
      dir,
    });
    nodes.push({
      name,
      url: node.url,
      get running() {
        return server.running;
      },
      kill: node.kill,
      stop: node.stop,
      restart: node.restart,
    });
  }
  const url = nodes.map((n) => n.url).join(",");
  const jetStreamReady = async (timeoutMs = 30_000) => {
    const nc = await connect({ servers: url.split(","), maxReconnectAttempts: -1 });
    try {
      // A meta leader is not enough: an R-size stream needs every peer current. Place one.
      const probe = `readiness_${Date.now()}`;
      await waitFor(
        `a ${size}-replica stream on the cluster`,
        async () => {
          const jsm = await jetstreamManager(nc, { timeout: 2000 });
          await jsm.streams.add({ name: probe, subjects: [`${probe}.>`], num_replicas: size });
          await jsm.streams.delete(probe);
          return true;
        },
        timeoutMs,
      );
    } finally {
      await nc.close();
    }
  };
  await jetStreamReady();
  return {
    url,
    nodes,
    jetStreamReady,
    dispose: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
