import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection, nkeyAuthenticator, nkeys } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionSubscriberConsumer } from "./subscribers/consumers.js";
import { seedSchool } from "./test-support/fixture.js";
import { type Harness, startHarness } from "./test-support/harness.js";
import { settle } from "./test-support/settle.js";
import { connectSubscriber, drain } from "./test-support/subscriber.js";

const env = useTestEnvironment({ label: "portal_perm" });
let h: Harness;
let a: NatsConnection;

beforeAll(async () => {
  h = await startHarness({
    databaseUrl: env.databaseUrl,
    prefix: env.natsPrefix,
    subscribers: ["a", "b"],
  });
  await provisionSubscriberConsumer(h.jsm, h.names, "a", { from: "start" });
  await provisionSubscriberConsumer(h.jsm, h.names, "b", { from: "start" });
  await seedSchool(h, [{ id: "p1", portalId: "EPGU-1" }]);
  await settle(h);
  a = await connectSubscriber(h, "a");
}, 60_000);

afterAll(async () => {
  await a?.close();
  await h?.stop();
});

/** The error a subscription ends with (nats.js closes it on the server's permission error). */
async function subscriptionError(nc: NatsConnection, subject: string): Promise<unknown> {
  const sub = nc.subscribe(subject);
  await nc.flush();
  return sub.closed;
}

describe("subscriber credentials", () => {
  it("read their own consumer", async () => {
    const got = await drain(a, h, "a", (g) => g.length >= 2);
    expect(got.map((d) => d.event.type)).toContain("portal.v1.SchoolReference");
  });

  it("are refused on another subscriber's consumer", async () => {
    const js = jetstream(a, { timeout: 2000 });
    await expect(js.consumers.get(h.names.stream, h.names.durable("b"))).rejects.toThrow();
    // Nor may they fetch from it directly.
    await expect(
      a.request(`$JS.API.CONSUMER.MSG.NEXT.${h.names.stream}.${h.names.durable("b")}`, "1", {
        timeout: 2000,
      }),
    ).rejects.toThrow();
  });

  it("cannot create, delete or list consumers or touch the stream", async () => {
    for (const subject of [
      `$JS.API.CONSUMER.DELETE.${h.names.stream}.${h.names.durable("a")}`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${h.names.stream}.x`,
      `$JS.API.STREAM.INFO.${h.names.stream}`,
      `$JS.API.STREAM.PURGE.${h.names.stream}`,
    ]) {
      await expect(a.request(subject, "{}", { timeout: 2000 })).rejects.toThrow();
    }
    // The consumer of a is still there.
    expect((await h.jsm.consumers.info(h.names.stream, h.names.durable("a"))).name).toBe(
      h.names.durable("a"),
    );
  });

  it("are refused on internal subjects", async () => {
    for (const subject of [
      `${env.natsPrefix}.identity.>`,
      `${env.natsPrefix}.grades.>`,
      `${h.names.root}.>`,
    ]) {
      expect(String(await subscriptionError(a, subject))).toMatch(/permissions violation/i);
    }
  });

  it("are refused on another inbox and on the shared _INBOX", async () => {
    expect(String(await subscriptionError(a, `${h.names.inboxPrefix("b")}.>`))).toMatch(
      /permissions violation/i,
    );
    expect(String(await subscriptionError(a, "_INBOX.>"))).toMatch(/permissions violation/i);
    // A client that forgets its inbox prefix cannot get any answer.
    const u = h.subscriberUser("a");
    const plain = await connect({ servers: h.nats.url, authenticator: nkeyAuthenticator(u.seed) });
    try {
      await expect(
        jetstream(plain, { timeout: 2000 }).consumers.get(h.names.stream, h.names.durable("a")),
      ).rejects.toThrow();
    } finally {
      await plain.close();
    }
  });

  it("are refused with an unknown NKey, and without any", async () => {
    const stranger = nkeys.createUser().getSeed();
    await expect(
      connect({ servers: h.nats.url, authenticator: nkeyAuthenticator(stranger) }),
    ).rejects.toThrow();
    await expect(connect({ servers: h.nats.url })).rejects.toThrow();
  });
});
