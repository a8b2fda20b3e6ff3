import type { MsgHdrs } from "@nats-io/transport-node";
import {
  type Context,
  context,
  propagation,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";

/*
 * W3C trace context (traceparent/tracestate) in NATS message headers, through whatever
 * propagator the SDK registered. The only span plumbing the kit writes by hand: there is no
 * NATS instrumentation for nats.js v3.
 */

export const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

export const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  get(carrier, key) {
    if (!carrier?.has(key)) return undefined;
    const values = carrier.values(key);
    return values.length === 1 ? values[0] : values;
  },
};

/** Writes the trace context of `ctx` (the active one by default) into `headers`. */
export function injectTraceHeaders(headers: MsgHdrs, ctx: Context = context.active()): MsgHdrs {
  propagation.inject(ctx, headers, natsHeaderSetter);
  return headers;
}

/**
 * The context carried by a received message (its remote span as parent), on top of `base`.
 * Messages without headers give `base` back unchanged.
 */
export function extractTraceContext(
  headers: MsgHdrs | undefined,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, headers, natsHeaderGetter);
}
