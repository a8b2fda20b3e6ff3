import type { JsMsg } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { deliveryOf } from "./delivery-info.js";

const msg = (reply: string, info?: () => unknown) =>
  ({
    reply,
    get info() {
      if (!info) throw new Error("m.info read");
      return info();
    },
  }) as unknown as JsMsg;

describe("deliveryOf", () => {
  it("reads both ack subject formats without nats.js's parser", () => {
    expect(deliveryOf(msg("$JS.ACK.p_GRADES.dur-p07.2.1041.17.1732838400000000000.5"))).toEqual({
      deliveryCount: 2,
      streamSequence: 1041,
      deliverySequence: 17,
    });
    expect(
      deliveryOf(msg("$JS.ACK._.ABCHASH.p_GRADES.dur.1.7.3.1732838400000000000.0.Xy12")),
    ).toEqual({ deliveryCount: 1, streamSequence: 7, deliverySequence: 3 });
    expect(deliveryOf(msg("$JS.ACK.dom.ABCHASH.S.C.4.99.98.1732838400000000000.0"))).toEqual({
      deliveryCount: 4,
      streamSequence: 99,
      deliverySequence: 98,
    });
  });

  it("leaves other subjects to nats.js", () => {
    const info = { deliveryCount: 1, streamSequence: 5, deliverySequence: 6 };
    expect(deliveryOf(msg("_INBOX.x.y", () => info))).toEqual(info);
    expect(deliveryOf(msg("$JS.ACK.S.C.x.5.6.7.8", () => info))).toEqual(info);
  });
});
