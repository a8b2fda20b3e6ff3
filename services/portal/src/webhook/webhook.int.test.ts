import { createServer, type IncomingMessage, type Server } from "node:http";
import { useTestEnvironment } from "@otmetka/testing";
import { CloudEvent } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionSubscriberConsumer } from "../subscribers/consumers.js";
import { consent, recordMark, seedSchool } from "../test-support/fixture.js";
import { type Harness, startHarness } from "../test-support/harness.js";
import { settle } from "../test-support/settle.js";
import { listDeadLetters, WebhookBridge } from "./bridge.js";
import { SIGNATURE_HEADER, verifyWebhook } from "./signature.js";

const env = useTestEnvironment({ label: "portal_webhook" });
const SECRET = "whsec-test-0123456789abcdef";
let h: Harness;

interface Received {
  body: string;
  event: CloudEvent<Record<string, unknown>>;
  signatureValid: boolean;
}

/** A subscriber's HTTP endpoint; `respond` decides the status per request. */
async function endpoint(respond: (e: CloudEvent<Record<string, unknown>>, n: number) => number) {
  const received: Received[] = [];
  const attempts: number[] = [];
  let n = 0;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const event = new CloudEvent<Record<string, unknown>>(JSON.parse(body), true);
    const status = respond(event, n++);
    attempts.push(status);
    if (status === 200) {
      received.push({
        body,
        event,
        signatureValid: verifyWebhook(
          SECRET,
          body,
          String(req.headers[SIGNATURE_HEADER]),
          new Date(),
        ),
      });
    }
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/portal`,
    received,
    attempts,
    close: () => server.close(),
  };
}

beforeAll(async () => {
  h = await startHarness({ databaseUrl: env.databaseUrl, prefix: env.natsPrefix, subscribers: [] });
  await seedSchool(h, [
    { id: "p1", portalId: "EPGU-1" },
    { id: "p2", portalId: "EPGU-2" },
  ]);
  await consent(h, "p1", true);
  await consent(h, "p2", true);
  await settle(h);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe("webhook bridge", () => {
  it("retries with back-off after a failing endpoint recovers; signed, valid, in order", async () => {
    const ep = await endpoint((_e, n) => (n < 3 ? 503 : 200));
    await provisionSubscriberConsumer(h.jsm, h.names, "hook-a", { from: "start" });
    const bridge = await new WebhookBridge({
      nc: h.nc,
      pool: h.pool,
      names: h.names,
      subscriber: "hook-a",
      url: ep.url,
      secret: SECRET,
      backoffMs: 20,
    }).start();
    try {
      const total = (await h.jsm.streams.info(h.names.stream)).state.messages;
      await waitUntil(() => ep.received.length >= total);
      expect(ep.attempts.slice(0, 4)).toEqual([503, 503, 503, 200]);
      expect(bridge.counters.failedAttempts).toBe(3);
      expect(ep.received.every((r) => r.signatureValid)).toBe(true);
      expect(ep.received.map((r) => r.event.type)).toContain("portal.v1.PupilPerformanceUpdated");
      expect(ep.received[0]?.event.type).toBe("portal.v1.SchoolReference");
      expect(
        verifyWebhook("another secret", ep.received[0]?.body ?? "", "t=1,v1=00", new Date()),
      ).toBe(false);
    } finally {
      await bridge.stop();
      ep.close();
    }
  });

  it("dead-letters a message that keeps failing, parks its pupil in order, and re-drives it", async () => {
    let broken = true;
    const ep = await endpoint((e) => (broken && e.subject === "pupil/EPGU-1" ? 500 : 200));
    await provisionSubscriberConsumer(h.jsm, h.names, "hook-b", { from: "new" });
    const bridge = await new WebhookBridge({
      nc: h.nc,
      pool: h.pool,
      names: h.names,
      subscriber: "hook-b",
      url: ep.url,
      secret: SECRET,
      maxAttempts: 2,
      backoffMs: 10,
    }).start();
    try {
      await recordMark(h, "p1", "MARK_VALUE_FIVE");
      await settle(h);
      await recordMark(h, "p1", "MARK_VALUE_FOUR");
      await recordMark(h, "p2", "MARK_VALUE_THREE");
      await settle(h);
      await waitUntil(async () => (await listDeadLetters(h.pool, "hook-b")).length >= 2);
      await waitUntil(() => ep.received.some((r) => r.event.subject === "pupil/EPGU-2"));
      const dead = await listDeadLetters(h.pool, "hook-b");
      expect(dead.map((d) => d.reason)).toEqual(["failed", "parked"]);
      expect(dead[0]?.error).toBe("HTTP 500");
      expect(ep.received.some((r) => r.event.subject === "pupil/EPGU-1")).toBe(false);

      broken = false;
      expect(await bridge.redrive(dead[0]?.subject ?? "")).toBe(2);
      expect(await listDeadLetters(h.pool, "hook-b")).toEqual([]);
      const p1 = ep.received.filter((r) => r.event.subject === "pupil/EPGU-1");
      expect(
        p1.map(
          (r) =>
            (r.event.data as { subjects: { currentMarks: string[] }[] }).subjects[0]?.currentMarks,
        ),
      ).toEqual([["5"], ["5", "4"]]);
      // Unparked: the next one goes straight through.
      await recordMark(h, "p1", "MARK_VALUE_THREE");
      await settle(h);
      await waitUntil(
        () => ep.received.filter((r) => r.event.subject === "pupil/EPGU-1").length === 3,
      );
    } finally {
      await bridge.stop();
      ep.close();
    }
  });
});

async function waitUntil(
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
