import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames, toMessage } from "@otmetka/messaging";
import {
  freePort,
  type ServiceProcess,
  startServiceProcess,
  useTestEnvironment,
} from "@otmetka/testing";
import { CloudEvent } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIGNATURE_HEADER, verifyWebhook } from "./webhook/signature.js";

const env = useTestEnvironment({ label: "portal_main" });
const SECRET = "process-test-secret-0123";
let service: ServiceProcess;
let nc: NatsConnection;
const received: { event: CloudEvent<Record<string, unknown>>; valid: boolean }[] = [];
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks).toString();
  received.push({
    event: new CloudEvent(JSON.parse(body), true),
    valid: verifyWebhook(SECRET, body, String(req.headers[SIGNATURE_HEADER]), new Date()),
  });
  res.writeHead(204).end();
});

const start = (extra: Record<string, string>) =>
  startServiceProcess({
    name: "portal",
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...env.env, ...extra },
  });

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const hook = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  service = start({
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: String(await freePort()),
    SHUTDOWN_GRACE_MS: "100",
    PORTAL_DEBOUNCE_MS: "50",
    PORTAL_WEBHOOKS: `state-portal|${hook}|${SECRET}`,
  });
  await service.waitForOutput("grpc server listening", 40_000);
  nc = await connect({ servers: env.natsUrl });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  if (service && service.child.exitCode === null) await service.stop();
  server.close();
});

describe("portal service process", () => {
  it("migrates, provisions PORTAL, and feeds a webhook subscriber from identity events", async () => {
    const names = messagingNames(env.natsPrefix);
    const data = { schoolId: "s-9", municipalityId: "m-9", name: "Гимназия № 9", shortName: "Г9" };
    const m = toMessage(
      {
        position: 1,
        transactionId: "1",
        checkpoint: "1:1",
        streamId: "school-s-9",
        version: 1,
        eventId: crypto.randomUUID(),
        type: "identity.v1.SchoolRegistered",
        schemaVersion: 1,
        storedSchemaVersion: 1,
        data,
        metadata: {},
        recordedAt: new Date(),
      } as never,
      { subjectRoot: names.eventRoot("identity"), source: "identity" },
    );
    await jetstream(nc).publish(m.subject, m.payload, { headers: m.headers, msgID: m.msgId });
    const deadline = Date.now() + 20_000;
    while (received.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(received[0]?.valid).toBe(true);
    expect(received[0]?.event).toMatchObject({
      type: "portal.v1.SchoolReference",
      subject: "school/s-9",
    });
    expect(received[0]?.event.data).toEqual({ ...data, closedOn: "" });
  });

  it("refuses a bad configuration, naming the variable", async () => {
    const bad = start({ PORTAL_DEBOUNCE_MS: "soon" });
    const { code } = await bad.exited;
    expect(code).toBe(1);
    expect(bad.stderr + bad.stdout).toMatch(/PORTAL_DEBOUNCE_MS/);
  });
});
