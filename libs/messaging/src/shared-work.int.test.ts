import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { type Child, eventually, spawnMain } from "./test-support/child.js";
import { createInbox } from "./test-support/inbox.js";
import { fakeEvent, publishEvents } from "./test-support/publish-events.js";

const env = useTestEnvironment({ label: "messaging_shared_work" });
let nc: NatsConnection;
let db: pg.Pool;
const children: Child[] = [];

beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
  db = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  await createInbox(db);
});
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill("SIGKILL")));
  await nc?.close();
  await db?.end();
});

const STREAMS = 120;
const VERSIONS = 25;
const TOTAL = STREAMS * VERSIONS;

const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);

/** Adds the instances' recent output to a failure. */
async function withOutputs<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const outputs = children.map((c, i) => `--- instance ${i} ---\n${c.output().slice(-2000)}`);
    throw new Error(`${(err as Error).message}\n${outputs.join("\n")}`);
  }
}

it("proof 3: two instances share the partitions; each stream in version order, each event once, across a kill", async () => {
  const names = messagingNames(env.natsPrefix);
  await ensureStream(await jetstreamManager(nc), names.contextStream("grades"));
  const start = (id: string) => {
    const c = spawnMain("consumer-main.ts", {
      ...env.env,
      INSTANCE_ID: id,
      LEASE_TTL_MS: "2000",
      // Slower than the publisher: A holds delivered but unhandled messages when it dies,
      // which B must get before anything newer (without the ack-floor re-creation of
      // partition-consumer.ts this test fails).
      HANDLER_DELAY_MS: "5",
    });
    children.push(c);
    return c;
  };
  const a = start("instance-a");
  const b = start("instance-b");
  await Promise.all([a.waitForOutput("consumer ready"), b.waitForOutput("consumer ready")]);
  // Both take a share of the partitions once they see each other.
  const owned = (c: Child) => {
    const lines = c.output().match(/owns [\d,]*/g) ?? [];
    const last = lines.at(-1)?.slice(5) ?? "";
    return last ? last.split(",").map(Number) : [];
  };
  await withOutputs(() =>
    eventually("both instances own partitions, 16 in all", () => {
      const x = owned(a);
      const y = owned(b);
      return (
        x.length > 0 &&
        y.length > 0 &&
        new Set([...x, ...y]).size === 16 &&
        x.length + y.length === 16
      );
    }),
  );

  // Publish version-major rounds over time, so every stream is in flight when A dies.
  const publishing = (async () => {
    for (let v = 1; v <= VERSIONS; v++) {
      const round = [];
      for (let s = 0; s < STREAMS; s++) round.push(fakeEvent(`course-${s}`, v, { v }));
      await publishEvents(nc, names, "grades", round);
      await sleep(40);
    }
  })();
  await eventually(
    "a third handled",
    async () => (await count("SELECT count(*) AS n FROM inbox")) >= TOTAL / 3,
  );
  const handledByA = await count("SELECT count(*) AS n FROM inbox WHERE instance = 'instance-a'");
  await a.kill("SIGKILL");
  await publishing;
  await eventually(
    "every event handled",
    async () => (await count("SELECT count(*) AS n FROM inbox")) === TOTAL,
    45_000,
  );
  await eventually("B took over every partition", () => owned(b).length === 16, 10_000);
  await sleep(300);

  expect(handledByA).toBeGreaterThan(0);
  expect(
    await count("SELECT count(*) AS n FROM inbox WHERE instance = 'instance-b'"),
  ).toBeGreaterThan(0);
  // Exactly once in effect: one inbox row per event (the unique event id), none missing.
  expect(await count("SELECT count(DISTINCT event_id) AS n FROM inbox")).toBe(TOTAL);
  // Version order per stream: the order of first handling (inbox seq) is 1, 2, ..., 25.
  const { rows } = await db.query<{ stream_id: string; versions: number[] }>(
    "SELECT stream_id, array_agg(version ORDER BY seq) AS versions FROM inbox GROUP BY stream_id",
  );
  expect(rows.length).toBe(STREAMS);
  const expected = Array.from({ length: VERSIONS }, (_, i) => i + 1);
  const outOfOrder = rows.filter((r) => r.versions.join() !== expected.join());
  expect(outOfOrder).toEqual([]);
  // Redeliveries after the kill reached the handler at most for A's unacked tail.
  const calls = await count("SELECT count(*) AS n FROM handler_calls");
  expect(calls).toBeGreaterThanOrEqual(TOTAL);
  console.log(
    `proof 3: ${calls - TOTAL} repeated handler calls after the kill, absorbed by the inbox`,
  );
}, 90_000);
