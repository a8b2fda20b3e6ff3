import { fileURLToPath } from "node:url";
import {
  freePort,
  type ServiceProcess,
  startServiceProcess,
  startTestTokenIssuer,
  type TestTokenIssuer,
  useTestEnvironment,
} from "@otmetka/testing";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type FakeServices, startFakeServices } from "./test-support/fake-services.js";
import { F } from "./test-support/fixture.js";

/*
 * main.ts as a real process: configuration, HTTP and WebSocket at /graphql, graceful stop, bad
 * config.
 */
const env = useTestEnvironment({ label: "gateway_main" });
const cwd = fileURLToPath(new URL("..", import.meta.url));

describe("gateway process", () => {
  let issuer: TestTokenIssuer;
  let fakes: FakeServices;
  let gateway: ServiceProcess;
  let url: string;
  let bad: ServiceProcess;
  let badExit: Promise<number | null>;
  beforeAll(async () => {
    // The bad-configuration process starts alongside the good one (its test reads its exit):
    // two starts overlapped instead of one after the other.
    bad = startServiceProcess({
      name: "gateway-bad-config",
      cwd,
      env: { ...env.env, GRAPHQL_MAX_DEPTH: "1000", IDENTITY_GRPC_ADDRESS: "nowhere" },
    });
    badExit = bad.exited.then(({ code }) => code);
    issuer = await startTestTokenIssuer();
    fakes = await startFakeServices();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/graphql`;
    gateway = startServiceProcess({
      name: "gateway",
      cwd,
      env: {
        ...env.env,
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(port),
        AUTH_JWKS_URL: issuer.jwksUrl,
        IDENTITY_GRPC_ADDRESS: fakes.address,
        CURRICULUM_GRPC_ADDRESS: fakes.address,
        REPORTING_GRPC_ADDRESS: fakes.address,
        SHUTDOWN_GRACE_MS: "0",
      },
    });
    await gateway.waitForOutput("gateway listening", 60_000);
  }, 90_000);
  afterAll(async () => {
    for (const p of [gateway, bad]) if (p && p.child.exitCode === null) p.child.kill("SIGKILL");
    await fakes?.stop();
    await issuer?.stop();
  });

  it("answers GraphQL over HTTP with the verified caller, and stops cleanly on SIGTERM", async () => {
    const token = await issuer.sign({ roles: [`SCHOOL_ADMIN@school:${F.s1}`], pid: "admin" });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ query: `{ me { roles } school(id: "${F.s1}") { name } }` }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      data: { me: { roles: [`SCHOOL_ADMIN@school:${F.s1}`] }, school: { name: "School 1" } },
    });
    // The caller's token and trace went on to the service.
    expect(fakes.tokens).toEqual([`Bearer ${token}`]);
    expect(fakes.traceparents[0]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const anonymous = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ me { roles } }" }),
    });
    expect(anonymous.status).toBe(401);
    // The same path over WebSocket (graphql-ws); SIGTERM closes the open socket (1001).
    let closedWith: number | undefined;
    const client = createClient({
      url: url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      on: {
        closed: (e) => {
          closedWith = (e as { code: number }).code;
        },
      },
    });
    const events: unknown[] = [];
    const subscribed = client.subscribe(
      { query: `subscription { dashboardChanged(scope: { schoolId: "${F.s1}" }) { id } }` },
      { next: (r) => void events.push(r), error: () => {}, complete: () => {} },
    );
    expect(await client.iterate({ query: "{ me { roles } }" }).next()).toEqual({
      done: false,
      value: { data: { me: { roles: [`SCHOOL_ADMIN@school:${F.s1}`] } } },
    });
    expect(await gateway.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(closedWith).toBe(1001);
    expect(events).toEqual([]);
    subscribed();
    await client.dispose();
  });

  it("refuses a bad variable at start-up, naming it (exit 1)", async () => {
    expect(await badExit).toBe(1);
    expect(bad.stderr).toContain("GRAPHQL_MAX_DEPTH");
    expect(bad.stderr).toContain("IDENTITY_GRPC_ADDRESS");
  });
});
