import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { createLogger } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { NoticeHub } from "./notices.js";

/*
 * journalChanged over SSE with reporting's change notices on real NATS: a subscriber hears the
 * journal it was authorized for and no other. Subject codes may hold '-' (MATH, MATH-ADV), so
 * one subject's journal id can start with another's.
 */
const env = useTestEnvironment({ label: "gateway_journal_changed" });

describe("journalChanged", () => {
  let nc: NatsConnection;
  let h: GatewayHarness;
  let root: string;
  const hub = new NoticeHub();

  beforeAll(async () => {
    nc = await connect({ servers: env.natsUrl });
    root = `${messagingNames(env.natsPrefix).eventRoot("reporting")}.changed`;
    hub.start(nc, `${root}.>`, createLogger({ service: "gateway-test", level: "silent" }));
    await nc.flush();
    h = await startGatewayHarness({ notices: hub });
  });
  afterAll(async () => {
    hub.stop();
    await h?.close();
    await nc?.close();
  });

  it("hears its own subject's journal only, not a subject whose id starts the same", async () => {
    // T3 teaches rus in C1 (and is not its homeroom teacher): not rus-lit.
    const teacher = await h.token([`TEACHER@school:${F.s1}`], F.t3);
    const res = await h.raw({
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${teacher}`,
      },
      body: JSON.stringify({
        query: `subscription { journalChanged(classGroupId: "${F.c1}", subjectId: "rus") { kind id } }`,
      }),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const own = `journal-${F.c1}-rus-${F.year}`;
    for (const id of [
      `journal-${F.c1}-rus-lit-${F.year}`,
      `journal-${F.c1}-rus-x-1-${F.year}`,
      own,
    ])
      nc.publish(`${root}.journal`, JSON.stringify({ kind: "journal", id }));
    // Notices arrive in order: once the own journal's is read, the others were passed over.
    let text = "";
    const decoder = new TextDecoder();
    const deadline = Date.now() + 10_000;
    while (!text.includes(own) && Date.now() < deadline) {
      const { value, done } = await Promise.race([
        reader.read(),
        new Promise<{ value: undefined; done: true }>((r) =>
          setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now()),
        ),
      ]);
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    const ids = [...text.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual([own]);
  });
});
