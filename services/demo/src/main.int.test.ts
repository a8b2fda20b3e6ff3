import { randomBytes } from "node:crypto";
import { credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { GreetingSent } from "@otmetka/proto/demo/events/v1/events";
import {
  DemoServiceClient,
  type SendGreetingRequest,
  type SendGreetingResponse,
} from "@otmetka/proto/demo/v1/demo_service";
import { parseAcademicYear } from "@otmetka/proto/values";
import type { ServiceProcess } from "@otmetka/testing";
import { freePort, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoProcess } from "./test-support/demo-process.js";

const env = useTestEnvironment({ label: "demo" });
let demo: ServiceProcess;
let client: DemoServiceClient;

function sendGreeting(req: SendGreetingRequest, metadata = new Metadata()) {
  return new Promise<SendGreetingResponse>((resolve, reject) =>
    client.sendGreeting(req, metadata, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

beforeAll(async () => {
  const port = await freePort();
  demo = startDemoProcess({
    ...env.env,
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: String(port),
    SHUTDOWN_GRACE_MS: "200",
  });
  await demo.waitForOutput("grpc server listening");
  client = new DemoServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  if (demo && demo.child.exitCode === null) demo.child.kill("SIGKILL");
});

describe("demo service, end to end", () => {
  it("echoes a greeting and publishes GreetingSent with the caller's trace", async () => {
    const traceId = randomBytes(16).toString("hex");
    const metadata = new Metadata();
    metadata.set("traceparent", `00-${traceId}-${randomBytes(8).toString("hex")}-01`);
    const academicYear = parseAcademicYear("2026/2027");

    const res = await sendGreeting({ text: "Добрый день", academicYear }, metadata);
    expect(res).toEqual({ text: "Добрый день", traceId });

    const nc = await connect({ servers: env.natsUrl });
    try {
      const consumer = await jetstream(nc).consumers.get(`${env.natsPrefix}_DEMO`);
      const msg = await consumer.next({ expires: 5000 });
      expect(msg?.subject).toBe(`${env.natsPrefix}.demo.v1._._._.GreetingSent`);
      expect(GreetingSent.fromJSON(msg?.json())).toEqual({ text: "Добрый день", academicYear });
      expect(msg?.headers?.get("traceparent")).toMatch(
        new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
      );
      expect(msg?.headers?.get("Nats-Msg-Id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(msg?.headers?.get("ce-type")).toBe("demo.v1.GreetingSent");
    } finally {
      await nc.close();
    }
  });

  it("answers INVALID_ARGUMENT naming the field for an empty text", async () => {
    const err = (await sendGreeting({ text: " " }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe("text: must not be empty");
  });

  it("shuts down on SIGTERM and exits 0", async () => {
    demo.child.kill("SIGTERM");
    const { code } = await demo.exited;
    expect(code, demo.stdout + demo.stderr).toBe(0);
    expect(demo.stdout).toContain("grpc server stopped");
  });
});
