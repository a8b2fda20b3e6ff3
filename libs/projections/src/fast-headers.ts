import type { JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

const decoder = new TextDecoder();

/** What `readEnvelope` uses of a header set: `get` (first value) and iteration. */
interface HeaderLookup extends Iterable<[string, string[]]> {
  get(name: string): string;
}

/**
 * The message's headers for envelope reading, parsed in one pass. nats.js's own decoder
 * canonicalises and de-duplicates every key against all earlier ones (quadratic in the
 * header count), which made it the largest cost of a rebuild (~18 envelope headers per
 * message). This reads the raw header block nats.js keeps on the message; if that internal
 * shape is ever missing, it falls back to `m.headers`. Exact names, first value wins, as
 * `MsgHdrs.get` does. (libs/messaging has the same reader internally, `headerMapOf`; once it
 * exports that and `envelopeOf`, this file can go.)
 */
export function envelopeHeadersOf(m: JsMsg): MsgHdrs | undefined {
  const inner = (m as unknown as { msg?: { _rdata?: Uint8Array; _msg?: { hdr?: number } } }).msg;
  const raw = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!raw || typeof hdr !== "number") return m.headers;
  if (hdr < 0) return undefined;
  const map = new Map<string, string>();
  const lines = decoder.decode(raw.subarray(0, hdr)).split("\r\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    if (!map.has(key)) map.set(key, line.slice(colon + 1).trim());
  }
  const lookup: HeaderLookup = {
    get: (name) => map.get(name) ?? "",
    *[Symbol.iterator]() {
      for (const [k, v] of map) yield [k, [v]];
    },
  };
  return lookup as unknown as MsgHdrs;
}
