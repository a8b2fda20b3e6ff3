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
 * server is never touched. Resolves once every node answers and the cluster has formed (an
 * R-size stream placed); on a failure no node is left running.
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
  const servers: ServerProcess[] = [];
  const nodeAt = async (i: number): Promise<PrivateNatsNode> => {
    const name = `n${i + 1}`;
    const port = ports[i] as number;
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const file = join(dir, "server.conf");
    await writeFile(
      file,
      nodeConfig({
        name,
        port,
        clusterPort: clusterPorts[i] as number,
        routes: clusterPorts.filter((_, j) => j !== i),
        storeDir: join(dir, "js"),
      }),
    );
    const server = new ServerProcess(`nats-server ${name}`, bin, ["-c", file]);
    servers.push(server);
    const node = await controlPrivateServer({
      server,
      what: `private nats-server ${name} on port ${port}`,
      ...natsOnPort(port),
      dir,
    });
    return {
      name,
      url: node.url,
      get running() {
        return server.running;
      },
      kill: node.kill,
      stop: node.stop,
      restart: node.restart,
    };
  };
  // All nodes at once: each keeps dialling its routes until the others listen, so the cluster
  // forms whatever the order, and one node's start-up no longer waits for the one before.
  const started = await Promise.allSettled(Array.from({ length: size }, (_, i) => nodeAt(i)));
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const dispose = async () => {
    await Promise.all(servers.map((s) => s.stop("SIGTERM")));
    await rm(root, { recursive: true, force: true });
  };
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    // No node is left running behind the error, not even one that never answered.
    await dispose();
    throw failed.reason;
  }
  const url = nodes.map((n) => n.url).join(",");
  const jetStreamReady = async (timeoutMs = 30_000) => {
    const nc = await connect({ servers: url.split(","), maxReconnectAttempts: -1 });
    try {
      // Until the meta leader is elected, API requests go unanswered (no error): wait for it
      // with short requests, so that one sent too early does not cost the 2 s timeout below.
      await waitFor(
        "a JetStream meta leader on the cluster",
        async () => {
          const jsm = await jetstreamManager(nc, { timeout: 250, checkAPI: false });
          await jsm.getAccountInfo();
          return true;
        },
        timeoutMs,
      );
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
  try {
    await jetStreamReady();
  } catch (err) {
    await dispose();
    throw err;
  }
  return { url, nodes, jetStreamReady, dispose };
}
