import { describe, expect, it } from "vitest";
import { createEventFeed } from "./event-feed.js";

// A generated module's shape: a codec per message name that fills defaults and writes JSON.
const shop = {
  OrderPlaced: {
    fromPartial: (o: unknown) => ({ orderId: "", items: 0, ...(o as object) }),
    toJSON: (m: unknown) => ({ ...(m as object), encoded: true }),
  },
};

describe("createEventFeed", () => {
  it("numbers positions per feed and versions per stream, and stores the codec's JSON", () => {
    const feed = createEventFeed({ shop });
    const a1 = feed("shop", "order-a", "OrderPlaced", { orderId: "a" });
    const b1 = feed("shop", "order-b", "OrderPlaced", { orderId: "b" });
    const a2 = feed("shop", "order-a", "OrderPlaced", { orderId: "a", items: 2 });
    expect([a1, b1, a2].map((e) => [e.event.position, e.event.streamId, e.event.version])).toEqual([
      [1, "order-a", 1],
      [2, "order-b", 1],
      [3, "order-a", 2],
    ]);
    expect(a1.event.type).toBe("shop.v1.OrderPlaced");
    expect(a1.event.data).toEqual({ orderId: "a", items: 0, encoded: true });
    expect(createEventFeed({ shop })("shop", "order-a", "OrderPlaced", {}).event.version).toBe(1);
  });

  it("refuses an event name its context's module does not have", () => {
    const feed = createEventFeed({ shop });
    expect(() => feed("shop", "order-a", "OrderShipped", {})).toThrow("no shop event OrderShipped");
  });
});
