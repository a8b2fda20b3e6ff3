import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames, readEnvelope } from "@otmetka/messaging";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { envelopeHeadersOf } from "./fast-headers.js";
import { ensureContextStream, publishEvents, testEvent } from "./test-support/publish.js";

const env = useTestEnvironment({ label: "projections_headers" });
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

it("the one-pass header reader yields the same envelope as nats.js headers", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureContextStream(nc, names, "grades");
  const e = testEvent("journal:7 ü", 3, "grades.v1.MarkRecorded", { v: 1 });
  e.metadata = { correlationId: "c-1", causationId: "c-0", actor: { id: "a-9", kind: "user" } };
  await publishEvents(nc, names, "grades", [e]);
  const consumer = await jetstream(nc).consumers.get(names.contextStream("grades").name, {
    deliver_policy: DeliverPolicy.All,
  });
  const m = await consumer.next({ expires: 5000 });
  if (!m) throw new Error("no message");
  const fast = readEnvelope(envelopeHeadersOf(m), m.subject);
  expect(fast).toEqual(readEnvelope(m.headers, m.subject));
  expect(fast).toMatchObject({
    streamId: "journal:7 ü",
    version: 3,
    correlationId: "c-1",
    actorId: "a-9",
  });
});
