import { MsgHdrsImpl } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { envelopeHeaderBlock, envelopeHeaders } from "./envelope.js";
import { InvalidMessagingArgument } from "./errors.js";
import { fakeEvent } from "./test-support/publish-events.js";

const full = {
  ...fakeEvent("course-7", 3, { a: 1 }),
  metadata: {
    correlationId: "c-1",
    causationId: "c-2",
    commandId: "cmd-3",
    actor: { id: "u-4", kind: "user" as const },
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    tracestate: "vendor=x",
  },
};

describe("envelopeHeaderBlock", () => {
  it("is the block nats.js encodes for the same headers", () => {
    const h = envelopeHeaders(full, "grades");
    h.append("Nats-Expected-Last-Sequence", "41");
    const block = envelopeHeaderBlock(full, "grades", [["Nats-Expected-Last-Sequence", "41"]]);
    // nats.js encodes publish headers with MsgHdrsImpl.encode(), not part of the MsgHdrs type
    const encoded = (h as MsgHdrsImpl).encode();
    expect(block).toBe(new TextDecoder().decode(encoded));
    // and it decodes back to the same names and values
    const back = MsgHdrsImpl.decode(new TextEncoder().encode(block));
    for (const k of h.keys()) expect(back.values(k)).toEqual(h.values(k));
    expect(back.keys().length).toBe(h.keys().length);
  });

  it("refuses CR or LF in a value, as nats.js does, and trims values", () => {
    const bad = { ...full, streamId: "course\r\nNats-Msg-Id: forged" };
    expect(() => envelopeHeaderBlock(bad, "grades")).toThrow(InvalidMessagingArgument);
    expect(() => envelopeHeaders(bad, "grades")).toThrow();
    const spaced = { ...full, metadata: { correlationId: " c-1 " } };
    expect(envelopeHeaderBlock(spaced, "grades")).toContain("\r\nce-correlationid: c-1\r\n");
  });
});
