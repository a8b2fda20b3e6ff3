import {
  type Context,
  context,
  propagation,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ConsumedEvent } from "./consumed-event.js";
import { envelopeOf } from "./envelope.js";
import { toMessage } from "./event-message.js";
import { runTraced } from "./handler-runner.js";
import { headerCarrier, headerMapFromHdrs } from "./header-map.js";
import { fakeEvent } from "./test-support/publish-events.js";

const manager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

it("the relay's headers carry the event's traceparent and the handler runs inside that trace", async () => {
  const event = fakeEvent("course-1", 1);
  event.metadata.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const m = toMessage(event, { subjectRoot: "p.grades.v1", source: "grades" });
  expect(m.headers.get("traceparent")).toBe(event.metadata.traceparent);
  const headers = headerMapFromHdrs(m.headers);
  const consumed: ConsumedEvent = {
    ...envelopeOf(headers, m.subject),
    data: event.data,
    subject: m.subject,
    streamSequence: 1,
    attempt: 1,
    released: false,
    headers: m.headers,
  };
  let traceId: string | undefined;
  await runTraced(
    async () => {
      traceId = trace.getSpanContext(context.active())?.traceId;
    },
    consumed,
    headerCarrier(headers),
  );
  expect(traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
});

it("opens a CONSUMER span under the message's trace once a tracer provider is registered", async () => {
  const started: { name: string; parent: string | undefined }[] = [];
  // A minimal provider: records the spans the runtime starts (the SDK is not a dependency).
  const provider: TracerProvider = {
    getTracer: () => {
      const t: Tracer = {
        startSpan: (name, _options, ctx) => {
          started.push({ name, parent: trace.getSpanContext(ctx ?? context.active())?.traceId });
          return trace.wrapSpanContext({
            traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
            spanId: "1111111111111111",
            traceFlags: 1,
          });
        },
        startActiveSpan: ((
          name: string,
          options: SpanOptions,
          ctx: Context,
          fn: (s: Span) => unknown,
        ) => {
          const span = t.startSpan(name, options, ctx);
          return context.with(trace.setSpan(ctx, span), fn, undefined, span);
        }) as Tracer["startActiveSpan"],
      };
      return t;
    },
  };
  const event = fakeEvent("course-2", 1);
  event.metadata.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const m = toMessage(event, { subjectRoot: "p.grades.v1", source: "grades" });
  const headers = headerMapFromHdrs(m.headers);
  const consumed: ConsumedEvent = {
    ...envelopeOf(headers, m.subject),
    data: event.data,
    subject: m.subject,
    streamSequence: 1,
    attempt: 1,
    released: false,
    headers: m.headers,
  };
  let inside: string | undefined;
  const handler = async () => {
    inside = trace.getSpanContext(context.active())?.spanId;
  };
  // no provider yet: no span, the handler still sees the message's span context
  await runTraced(handler, consumed, headerCarrier(headers));
  expect(started).toEqual([]);
  expect(inside).toBe("00f067aa0ba902b7");
  trace.setGlobalTracerProvider(provider);
  try {
    await runTraced(handler, consumed, headerCarrier(headers));
  } finally {
    trace.disable();
  }
  expect(started).toEqual([
    { name: "process grades.v1.MarkRecorded", parent: "4bf92f3577b34da6a3ce929d0e0e4736" },
  ]);
  expect(inside).toBe("1111111111111111");
});
