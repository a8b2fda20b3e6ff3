import type { JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

/** A message's headers as name → first value. */
export type HeaderMap = Map<string, string>;

const decoder = new TextDecoder();

/** Internals of nats.js 3.4 messages that hold the undecoded header block. */
interface RawMsg {
  msg?: { _rdata?: Uint8Array; _msg?: { hdr?: number } };
}

/**
 * The headers of a received message, parsed in one pass. nats.js's own decoder checks every
 * header against all earlier ones (quadratic; ~10 µs for the ~18 envelope headers, the largest
 * per-message cost of the runtime), so the raw block is read directly when this nats.js
 * version exposes it, and `m.headers` is the fallback.
 */
export function headerMapOf(m: JsMsg): HeaderMap {
  const raw = (m as unknown as RawMsg).msg;
  const hdr = raw?._msg?.hdr;
  if (raw?._rdata instanceof Uint8Array && typeof hdr === "number") {
    const map: HeaderMap = new Map();
    if (hdr <= 0) return map;
    const lines = decoder.decode(raw._rdata.subarray(0, hdr)).split("\r\n");
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const key = line.slice(0, colon);
      if (!map.has(key)) map.set(key, line.slice(colon + 1).trim());
    }
    return map;
  }
  return headerMapFromHdrs(m.headers);
}

export function headerMapFromHdrs(h: MsgHdrs | undefined): HeaderMap {
  const map: HeaderMap = new Map();
  if (h) for (const [k, values] of h) if (values[0] !== undefined) map.set(k, values[0]);
  return map;
}

/** A read-only stand-in for MsgHdrs over a HeaderMap, for the trace-context getter. */
export function headerCarrier(map: HeaderMap): MsgHdrs {
  const carrier = {
    keys: () => [...map.keys()],
    has: (k: string) => map.has(k),
    get: (k: string) => map.get(k) ?? "",
    values: (k: string) => (map.has(k) ? [map.get(k)!] : []),
  };
  return carrier as unknown as MsgHdrs;
}
