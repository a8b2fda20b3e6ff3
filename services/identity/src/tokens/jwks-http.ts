import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@otmetka/service-kit";
import type { SigningKeyStore } from "./signing-keys.js";

export const JWKS_PATH = "/.well-known/jwks.json";

export interface JwksServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Identity's HTTP side: GET /.well-known/jwks.json. Verifiers cache the set and refetch when
 * a token names a key id they have not seen, so a short max-age is enough.
 */
export async function startJwksServer(o: {
  host: string;
  port: number;
  keys: SigningKeyStore;
  logger: Logger;
}): Promise<JwksServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== JWKS_PATH) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end();
      return;
    }
    o.keys.publishedKeys().then(
      (jwks) => {
        res
          .writeHead(200, {
            "content-type": "application/jwk-set+json",
            "cache-control": "public, max-age=60",
          })
          .end(req.method === "HEAD" ? undefined : JSON.stringify(jwks));
      },
      (err: unknown) => {
        o.logger.error({ err }, "jwks: cannot read the signing keys");
        res.writeHead(503, { "content-type": "text/plain" }).end("unavailable\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host;
  return {
    port,
    url: `http://${host}:${port}${JWKS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
