import { setTimeout as sleep } from "node:timers/promises";
import type { MsgHdrs } from "@nats-io/transport-node";
import {
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { extractTraceContext } from "@otmetka/service-kit";
import type { ConsumedEvent, EventHandler } from "./consumed-event.js";

const tracer = trace.getTracer("@otmetka/messaging");
/** What the global provider delegates to while no SDK registered one (the API's no-op). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** Whether a tracer provider is registered; checked per call, an SDK may start later. */
function tracing(): boolean {
  const global = trace.getTracerProvider();
  return !(global instanceof ProxyTracerProvider) || global.getDelegate() !== NOOP_PROVIDER;
}

export interface RetryPolicy {
  /** Attempts before an event is dead-lettered; default 5. */
  maxDeliver: number;
  /** Waits between attempts (ms); the last one repeats. Default [200, 1000, 5000]. */
  backoffMs: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = { maxDeliver: 5, backoffMs: [200, 1000, 5000] };

/** Calls the handler inside the trace the message carries (a CONSUMER span). */
export function runTraced(
  handler: EventHandler,
  event: ConsumedEvent,
  headers: MsgHdrs | undefined,
): Promise<void> {
  // No trace headers, nothing to extract (the propagator call is not free).
  const parent = headers ? extractTraceContext(headers, ROOT_CONTEXT) : ROOT_CONTEXT;
  // Without a provider the span would be a non-recording wrapper of the parent's span
  // context: running in the parent's context is the same to the handler, without the span,
  // its attributes and two context copies per message.
  if (!tracing()) return context.with(parent, handler, undefined, event);
  return tracer.startActiveSpan(
    `process ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "nats",
        "messaging.destination.name": event.subject,
        "messaging.message.id": event.eventId,
      },
    },
    parent,
    async (span) => {
      try {
        await handler(event);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

export type AttemptOutcome = { ok: true } | { ok: false; error: unknown; attempts: number };

/**
 * Runs the handler up to `maxDeliver` times with backoff, in place: retrying here instead of
 * nak-ing keeps every later event of the partition behind this one (per-stream order).
 * `keepAlive` runs around each retry (msg.working(), so the ack wait does not expire).
 */
export async function attemptWithRetries(
  run: (attempt: number) => Promise<void>,
  policy: RetryPolicy,
  signal: AbortSignal,
  keepAlive: () => void = () => {},
  /** The caller already made one attempt: wait before the first one here. */
  afterFailure = false,
): Promise<AttemptOutcome | "stopped"> {
  let error: unknown;
  if (afterFailure) {
    keepAlive();
    const first = policy.backoffMs[0] ?? 0;
    if (await sleep(first, false, { signal }).catch(() => true)) return "stopped";
  }
  for (let attempt = 1; attempt <= policy.maxDeliver; attempt++) {
    // Only retries extend the ack wait: a progress ack per message would double the traffic.
    if (attempt > 1 || afterFailure) keepAlive();
    try {
      await run(attempt);
      return { ok: true };
    } catch (err) {
      error = err;
    }
    if (attempt === policy.maxDeliver) break;
    const step = attempt - 1 + (afterFailure ? 1 : 0);
    const wait = policy.backoffMs[Math.min(step, policy.backoffMs.length - 1)] ?? 0;
    keepAlive();
    const stopped = await sleep(wait, false, { signal }).catch(() => true);
    if (stopped) return "stopped";
  }
  return { ok: false, error, attempts: policy.maxDeliver };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
