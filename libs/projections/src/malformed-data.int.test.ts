import { jetstream } from "@nats-io/jetstream";
import { toMessage } from "@otmetka/messaging";
import { expect, it } from "vitest";
import { defineProjection } from "./projection.js";
import { ProjectionRunner } from "./projection-runner.js";
import { eventually } from "./test-support/child.js";
import { ensureContextStream, testEvent } from "./test-support/publish.js";
import { useTestbed } from "./test-support/testbed.js";

const bed = useTestbed({ label: "projections_malformed" });

it("payloads are parsed on first read; one that is not JSON is skipped as malformed, the rest applied", async () => {
  const { nc, pool, names } = bed;
  await ensureContextStream(nc, names, "grades");
  const routing = { subjectRoot: names.eventRoot("grades"), source: "grades" };
  const js = jetstream(nc);
  // stream a: v1 fine, v2 not JSON, v3 fine; stream b: v1 deferred (waits for "x"), v2 not
  // JSON (waits behind it), v3 fine (waits too).
  const plan: [string, number, string | null][] = [
    ["a", 1, null],
    ["a", 2, "{not json"],
    ["a", 3, null],
    ["b", 1, null],
    ["b", 2, "{not json"],
    ["b", 3, null],
  ];
  for (const [stream, version, raw] of plan) {
    const m = toMessage(
      testEvent(stream, version, "grades.v1.Noted", { stream, version }),
      routing,
    );
    const payload = raw === null ? m.payload : new TextEncoder().encode(raw);
    await js.publish(m.subject, payload, { headers: m.headers, msgID: m.msgId });
  }
  const projection = defineProjection({
    name: "malformed",
    version: 1,
    sources: [{ context: "grades" }],
    async setup(db) {
      await db.schema
        .createTable("seen")
        .addColumn("stream_id", "text")
        .addColumn("version", "integer")
        .execute();
    },
    async apply(e, ctx) {
      const data = e.data as { stream: string; version: number };
      if (e.streamId === "b" && e.version === 1 && !e.wasPending) return ctx.defer("x");
      await ctx.query(`INSERT INTO ${ctx.schema}.seen VALUES ($1, $2)`, [
        data.stream,
        data.version,
      ]);
    },
  });
  const runner = await new ProjectionRunner({ projection, pool, nc, names }).start();
  try {
    await eventually("all six messages taken", () => runner.counters.messages >= 6);
    const rows = await pool.query(
      `SELECT stream_id || ':' || version AS v FROM proj_malformed.seen ORDER BY 1`,
    );
    expect(rows.rows.map((r) => r.v)).toEqual(["a:1", "a:3"]);
    expect(runner.counters.malformed).toBe(2);
    expect(runner.counters.failedBatches).toBe(0);
    const pending = await pool.query(
      `SELECT event->>'version' AS v FROM proj_malformed._pending ORDER BY id`,
    );
    expect(pending.rows.map((r) => r.v)).toEqual(["1", "3"]);
  } finally {
    await runner.stop();
  }
});
