import { type Agent, request } from "node:http";

/**
 * POSTs one GraphQL body to 127.0.0.1:`port`/graphql over a keep-alive `agent`; resolves the
 * response text, rejects on a non-200 status or a response with `errors`. Benchmarks' client.
 * A kept-alive socket the server closed while idle fails on reuse: sent again once (the
 * documented node:http pattern; a mutation's commandId makes the repeat harmless).
 */
export function postGraphql(
  agent: Agent,
  port: number,
  body: string,
  token?: string,
): Promise<string> {
  return postOnce(agent, port, body, token).catch(
    (err: Error & { reused?: boolean; code?: string }) => {
      if (err.reused && err.code === "ECONNRESET") return postOnce(agent, port, body, token);
      throw err;
    },
  );
}

function postOnce(agent: Agent, port: number, body: string, token?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200 || text.includes('"errors"'))
            reject(new Error(`${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(text);
        });
      },
    );
    req.on("error", (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
    req.end(body);
  });
}
