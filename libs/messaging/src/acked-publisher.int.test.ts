import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AckedPublisher, type StoredAck } from "./acked-publisher.js";
import { PublishAckTimeout, PublishRejected } from "./errors.js";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";

const env = useTestEnvironment({ label: "messaging_acked_publisher" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

const enc = new TextEncoder();
const block = (...pairs: [string, string][]) =>
  enc.encode(`NATS/1.0${pairs.map(([k, v]) => `\r\n${k}: ${v}`).join("")}\r\n\r\n`);

function publish(p: AckedPublisher, subject: string, headers: Uint8Array) {
  return new Promise<StoredAck>((resolve, reject) =>
    p.publish(subject, enc.encode("{}"), headers, (err, ack) =>
      err ? reject(err) : resolve(ack as StoredAck),
    ),
  );
}

it("gets each publish's ack, and JetStream's rejection as a typed error", async () => {
  const names = messagingNames(env.natsPrefix);
  const spec = names.contextStream("grades");
  await ensureStream(await jetstreamManager(nc), spec);
  const subject = `${names.eventRoot("grades")}._._.1.T`;
  const p = new AckedPublisher(nc, 5000);
  try {
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => publish(p, subject, block(["Nats-Msg-Id", `m-${i}`]))),
    );
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acks.every((a) => a.stream === spec.name && !a.duplicate)).toBe(true);
    // the same id again: a duplicate, not stored twice
    const dup = await publish(p, subject, block(["Nats-Msg-Id", "m-3"]));
    expect(dup).toMatchObject({ duplicate: true });
    // a wrong expected last sequence is refused by the server
    const wrong = publish(p, subject, block(["Nats-Expected-Last-Sequence", "7"]));
    await expect(wrong).rejects.toBeInstanceOf(PublishRejected);
    await expect(wrong).rejects.toThrow(/wrong last sequence/);
    // no stream captures the subject: no responders
    await expect(publish(p, `${env.natsPrefix}.nostream.x`, block())).rejects.toBeInstanceOf(
      PublishRejected,
    );
    expect(p.inFlight).toBe(0);
  } finally {
    p.close();
  }
});

it("fails a publish nobody acks after the timeout, and waiting ones on close", async () => {
  const silent = `${env.natsPrefix}.silent`;
  const sub = nc.subscribe(silent, { callback: () => {} }); // receives, never replies
  await nc.flush();
  const p = new AckedPublisher(nc, 300);
  try {
    const began = performance.now();
    await expect(publish(p, silent, block())).rejects.toBeInstanceOf(PublishAckTimeout);
    expect(performance.now() - began).toBeGreaterThanOrEqual(290);
    const waiting = publish(p, silent, block());
    p.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(publish(p, silent, block())).rejects.toThrow(/closed/);
  } finally {
    p.close();
    sub.unsubscribe();
  }
});
