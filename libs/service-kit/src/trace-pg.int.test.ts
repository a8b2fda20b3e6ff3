import { context, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTelemetry } from "./telemetry.js";

// The kit's own pg tracing (trace-pg.ts) against a real PostgreSQL: queries inside a sampled
// span get CLIENT spans, everything else none.
const telemetry = startTelemetry({ serviceName: "trace-pg-test", exporter: "memory" });
const spans = () => telemetry.memoryExporter?.getFinishedSpans() ?? [];
const pgSpans = () => spans().filter((s) => s.name.startsWith("pg."));
const tracer = trace.getTracer("trace-pg-test");

const env = useTestEnvironment({ label: "trace_pg" });
let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await telemetry.shutdown();
});
beforeEach(() => telemetry.memoryExporter?.reset());

/** Runs `work` inside a span of a trace that is not sampled (as 99 % of requests are). */
function unsampled<T>(work: () => Promise<T>): Promise<T> {
  const parent = trace.wrapSpanContext({
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: TraceFlags.NONE,
  });
  return context.with(trace.setSpan(context.active(), parent), work);
}

describe("pg tracing", () => {
  it("records a CLIENT span for each query of a sampled trace, callback and promise forms alike", async () => {
    await tracer.startActiveSpan("request", async (root) => {
      await pool.query("SELECT $1::int AS x", [1]); // pool: callback form inside pg
      const client = await pool.connect();
      try {
        await client
          .query("  -- a comment first\n  insert into nowhere values (1)")
          .catch(() => {});
        await client.query({ text: "SELECT 2 AS y" });
      } finally {
        client.release();
      }
      root.end();
    });
    const root = spans().find((s) => s.name === "request");
    const [select, failed, configured] = pgSpans();
    expect(pgSpans()).toHaveLength(3);
    expect(select?.name).toBe("pg.SELECT");
    expect(select?.kind).toBe(SpanKind.CLIENT);
    expect(select?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(select?.attributes).toMatchObject({
      "db.system.name": "postgresql",
      "db.operation.name": "SELECT",
      "db.query.text": "SELECT $1::int AS x",
      "db.namespace": new URL(env.databaseUrl).pathname.slice(1),
    });
    // Parameter values are personal data: never on a span.
    expect(JSON.stringify(select?.attributes)).not.toContain('"1"');
    expect(failed?.name).toBe("pg.INSERT");
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.status.message).toMatch(/nowhere/);
    expect(configured?.name).toBe("pg.SELECT");
    expect(configured?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("records nothing for queries of an unsampled trace or outside any trace, and answers them", async () => {
    const inside = await unsampled(() => pool.query<{ x: number }>("SELECT 3 AS x"));
    const outside = await pool.query<{ x: number }>("SELECT 4 AS x");
    const failed = await unsampled(() => pool.query("SELECT * FROM nowhere")).catch((e) => e);
    expect(inside.rows[0]?.x).toBe(3);
    expect(outside.rows[0]?.x).toBe(4);
    expect(failed).toBeInstanceOf(Error);
    expect(pgSpans()).toEqual([]);
  });
});
