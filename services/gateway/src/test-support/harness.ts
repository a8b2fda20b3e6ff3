import type { AccessRecord } from "@otmetka/proto/audit/v1/access_record";
import { createCallerVerifier, createLogger } from "@otmetka/service-kit";
import { startTestTokenIssuer, type TestTokenIssuer } from "@otmetka/testing";
import type { AuditSink } from "../audit/publisher.js";
import { connectBackends } from "../backends/clients.js";
import { createGateway, type GatewayOptions } from "../http/gateway.js";
import { type ListeningGateway, listenGateway } from "../http/websocket.js";
import { type FakeServices, startFakeServices } from "./fake-services.js";

export interface GraphQLAnswer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: {
      message: string;
      locations?: { line: number; column: number }[];
      path?: (string | number)[];
      extensions?: { code?: string; field?: string };
    }[];
  };
  text: string;
}

export interface GatewayHarness {
  issuer: TestTokenIssuer;
  fakes: FakeServices;
  /** Records the in-memory sink received (when no sink was given). */
  records: AccessRecord[];
  token(roles: string[], pid?: string): Promise<string>;
  query(
    token: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLAnswer>;
  fetch(init: RequestInit & { path?: string }): Promise<GraphQLAnswer>;
  /** The response itself, its body unread (an SSE stream). */
  raw(init: RequestInit & { path?: string }): Promise<Response>;
  /** The same gateway on a real HTTP server with its WebSocket endpoint (closed by close()). */
  listen(port?: number): Promise<ListeningGateway>;
  close(): Promise<void>;
}

/**
 * The gateway in-process (yoga's fetch handler, no socket) over the fake services on real
 * gRPC, with tokens verified against a test JWKS. Options override the defaults.
 */
export async function startGatewayHarness(
  overrides: Partial<Omit<GatewayOptions, "backends" | "verifier">> & {
    sink?: AuditSink;
    timeoutMs?: number;
  } = {},
): Promise<GatewayHarness> {
  const issuer = await startTestTokenIssuer();
  const fakes = await startFakeServices();
  const backends = connectBackends({
    identity: fakes.address,
    curriculum: fakes.address,
    reporting: fakes.address,
    ...(overrides.timeoutMs ? { timeoutMs: overrides.timeoutMs } : {}),
  });
  const records: AccessRecord[] = [];
  const listening: ListeningGateway[] = [];
  const { sink, timeoutMs: _timeout, ...rest } = overrides;
  const yoga = createGateway({
    backends,
    verifier: createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
    audit: sink ?? { publish: async (r) => void records.push(r) },
    logger: createLogger({ service: "gateway-test", level: "silent" }),
    regionId: "74",
    development: false,
    persistedOnly: false,
    limits: { depth: 10, cost: 5000, aliases: 15, tokens: 2000, perMinute: 10_000 },
    now: () => new Date("2026-10-15T10:00:00Z"),
    ...rest,
  });
  const raw = async (init: RequestInit & { path?: string }): Promise<Response> =>
    yoga.fetch(`http://gateway.test${init.path ?? "/graphql"}`, init);
  const run = async (init: RequestInit & { path?: string }): Promise<GraphQLAnswer> => {
    const res = await raw(init);
    const text = await res.text();
    let body: GraphQLAnswer["body"] = {};
    try {
      body = JSON.parse(text) as GraphQLAnswer["body"];
    } catch {
      // Not JSON (e.g. a 404 page): the test looks at `text`.
    }
    return { status: res.status, body, text };
  };
  return {
    issuer,
    fakes,
    records,
    token: (roles, pid) => issuer.sign({ roles, ...(pid ? { pid } : {}) }),
    query: (token, query, variables) =>
      run({
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
      }),
    fetch: run,
    raw,
    async listen(port = 0) {
      const l = await listenGateway(yoga, port, "127.0.0.1");
      listening.push(l);
      return l;
    },
    async close() {
      await Promise.all(listening.map((l) => l.close()));
      backends.close();
      await fakes.stop();
      await issuer.stop();
    },
  };
}
