import { type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { deliveryOf } from "./delivery-info.js";
import { envelopeOf, readEnvelope } from "./envelope.js";
import { scanEnvelope, traceCarrier } from "./envelope-scan.js";
import { headerMapFromHdrs, headerMapOf } from "./header-map.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { fakeEvent, publishEvents } from "./test-support/publish-events.js";

const env = useTestEnvironment({ label: "messaging_header_map" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

it("reads a received message's raw header block exactly as nats.js decodes it", async () => {
  const names = messagingNames(env.natsPrefix);
  const stream = names.contextStream("grades");
  await ensureStream(await jetstreamManager(nc), stream);
  await publishEvents(nc, names, "grades", [fakeEvent("course-1", 1, { a: 1 })]);
  const consumer = await jetstream(nc).consumers.get(stream.name);
  const m = await consumer.next();
  expect(m).not.toBeNull();
  // The fast path is taken with this nats.js version (its internals are what it reads).
  expect((m as unknown as { msg: { _rdata: unknown } }).msg._rdata).toBeInstanceOf(Uint8Array);
  const fast = headerMapOf(m!);
  expect(fast.size).toBeGreaterThan(10);
  expect([...fast]).toEqual([...headerMapFromHdrs(m!.headers)]);
  expect(envelopeOf(fast, m!.subject)).toEqual(readEnvelope(m!.headers, m!.subject));
  expect(envelopeOf(fast, m!.subject)).toMatchObject({ streamId: "course-1", version: 1 });
  // The one-pass scan the consumer uses gives the same envelope and trace headers.
  const scanned = scanEnvelope(m!);
  expect(scanned.envelope).toEqual(readEnvelope(m!.headers, m!.subject));
  expect(scanned.traceparent).toBe(m!.headers?.get("traceparent") || undefined);
  const carrier = traceCarrier({ ...scanned, traceparent: "00-ab-cd-01", tracestate: "k=v" });
  expect(carrier?.keys()).toEqual(["traceparent", "tracestate"]);
  expect(carrier?.get("traceparent")).toBe("00-ab-cd-01");
  expect(traceCarrier({ ...scanned, traceparent: undefined })).toBeUndefined();
  // The ack subject this server writes is one deliveryOf reads itself, with nats.js's numbers.
  const { streamSequence, deliverySequence, deliveryCount } = m!.info;
  const replyOnly = { reply: (m as unknown as { reply: string }).reply } as unknown as JsMsg; // no m.info to fall back on
  expect(deliveryOf(replyOnly)).toEqual({ streamSequence, deliverySequence, deliveryCount });
});
