import { randomUUID } from "node:crypto";
import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { SpanKind, trace } from "@opentelemetry/api";
import { GreetingSent } from "@otmetka/proto/demo/events/v1/events";
import type {
  DemoServiceServer,
  SendGreetingRequest,
  SendGreetingResponse,
} from "@otmetka/proto/demo/v1/demo_service";
import {
  type Clock,
  DomainError,
  injectTraceHeaders,
  type Logger,
  type NatsNames,
  unaryHandler,
} from "@otmetka/service-kit";

const tracer = trace.getTracer("otmetka-demo");

/** `<prefix>.demo.v1._._._.GreetingSent`: the demo has no municipality, school or partition. */
export const greetingSentSubject = (names: NatsNames) =>
  names.subject("demo", "v1", "_", "_", "_", "GreetingSent");

/** Creates the DEMO stream if it is missing; an existing one is left as it is. */
export async function provisionDemoStream(jsm: JetStreamManager, names: NatsNames) {
  const stream = names.contextStream("demo");
  try {
    await jsm.streams.info(stream.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === 10059)) throw err; // stream not found
    await jsm.streams.add(stream).catch(async (addErr: unknown) => {
      // Another replica created it between our two calls: fine, as long as it is there now.
      await jsm.streams.info(stream.name).catch(() => Promise.reject(addErr));
    });
  }
  return stream.name;
}

export interface DemoServiceDeps {
  js: JetStreamClient;
  names: NatsNames;
  logger: Logger;
  clock: Clock;
}

/**
 * SendGreeting: echoes the text and announces a GreetingSent event (proto3 JSON) on JetStream,
 * with the trace context and CloudEvents attributes in headers. Returns the trace id it ran
 * under, so callers can see propagation work.
 */
export function createDemoService(deps: DemoServiceDeps): DemoServiceServer {
  const subject = greetingSentSubject(deps.names);
  return {
    sendGreeting: unaryHandler(deps.logger, async (req: SendGreetingRequest) => {
      if (req.text.trim() === "") {
        throw new DomainError("invalid_argument", "text: must not be empty", { field: "text" });
      }
      const traceId = trace.getActiveSpan()?.spanContext().traceId ?? "";
      const eventId = randomUUID();
      const payload = GreetingSent.toJSON({ text: req.text, academicYear: req.academicYear });
      await tracer.startActiveSpan(
        `publish ${subject}`,
        { kind: SpanKind.PRODUCER },
        async (span) => {
          try {
            const h = injectTraceHeaders(headers());
            h.set("ce-id", eventId);
            h.set("ce-type", "demo.v1.GreetingSent");
            h.set("ce-source", "demo");
            h.set("ce-time", deps.clock.now().toISOString());
            await deps.js.publish(subject, JSON.stringify(payload), { headers: h, msgID: eventId });
          } finally {
            span.end();
          }
        },
      );
      deps.logger.info({ event_id: eventId }, "greeting sent");
      return { text: req.text, traceId } satisfies SendGreetingResponse;
    }),
  };
}
