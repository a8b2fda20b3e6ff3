import { headers } from "@nats-io/transport-node";
import { propagation, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractTraceContext, injectTraceHeaders } from "./nats-trace-carrier.js";

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const spanId = "00f067aa0ba902b7";

describe("NATS trace carrier", () => {
  beforeAll(() => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    propagation.disable();
  });

  it("writes traceparent into NATS headers and reads the same context back", () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
    const h = injectTraceHeaders(headers(), ctx);
    expect(h.get("traceparent")).toBe(`00-${traceId}-${spanId}-01`);

    const received = trace.getSpanContext(extractTraceContext(h, ROOT_CONTEXT));
    expect(received).toMatchObject({ traceId, spanId, traceFlags: 1, isRemote: true });
  });

  it("carries tracestate", () => {
    const h = headers();
    h.set("traceparent", `00-${traceId}-${spanId}-00`);
    h.set("tracestate", "vendor=abc");
    const received = trace.getSpanContext(extractTraceContext(h, ROOT_CONTEXT));
    expect(received?.traceState?.get("vendor")).toBe("abc");
    expect(received?.traceFlags).toBe(TraceFlags.NONE);
  });

  it("leaves the context alone for messages without headers", () => {
    expect(extractTraceContext(undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    expect(trace.getSpanContext(extractTraceContext(headers(), ROOT_CONTEXT))).toBeUndefined();
  });

  it("writes nothing when there is no active span", () => {
    const h = injectTraceHeaders(headers(), ROOT_CONTEXT);
    expect(h.has("traceparent")).toBe(false);
  });
});
