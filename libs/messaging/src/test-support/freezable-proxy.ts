import net from "node:net";

/** A TCP proxy to a server whose connections can be frozen: nothing passes, nothing closes. */
export interface FreezableProxy {
  /** `nats://127.0.0.1:<port>` of the proxy. */
  url: string;
  /** Stops forwarding both ways (a network that silently drops everything). */
  freeze(): void;
  /** Forwards again what waited, and what comes. */
  thaw(): void;
  close(): Promise<void>;
}

/** Proxies to `target` (a `nats://host:port` URL). */
export async function freezableProxy(target: string): Promise<FreezableProxy> {
  const { hostname, port } = new URL(target);
  const pairs: [net.Socket, net.Socket][] = [];
  let frozen = false;
  const flow = (a: net.Socket, b: net.Socket) => {
    a.pipe(b);
    b.pipe(a);
  };
  const stop = (a: net.Socket, b: net.Socket) => {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const [s, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      s.on("error", () => other.destroy());
      s.on("close", () => other.destroy());
    }
    pairs.push([client, upstream]);
    if (frozen) stop(client, upstream);
    else flow(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `nats://127.0.0.1:${own}`,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) stop(a, b);
    },
    thaw() {
      frozen = false;
      for (const [a, b] of pairs) flow(a, b);
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
