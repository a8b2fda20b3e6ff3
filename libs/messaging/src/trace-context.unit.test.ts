import { context, propagation, trace } from "@opentelemetry/api";
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
