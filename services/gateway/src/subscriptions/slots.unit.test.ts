import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../config.js";
import { SubscriptionSlots } from "./slots.js";

async function* notices(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

describe("SubscriptionSlots", () => {
  it("refuses over the limit, per account, and gives each slot back once however it ends", async () => {
    const slots = new SubscriptionSlots(2);
    const a = slots.hold("a", () => notices(5));
    const b = slots.hold("a", () => notices(1));
    expect(() => slots.hold("a", () => notices(1))).toThrow(
      /^authorization: more than 2 open subscriptions of one account/,
    );
    expect(slots.held("b")).toBe(0);
    slots.hold("b", () => notices(1));
    // Returned twice (the client's complete, then the socket's close): one slot back.
    await a.return?.();
    await a.return?.();
    expect(slots.held("a")).toBe(1);
    // Ended by itself.
    await b.next();
    await b.next();
    expect(slots.held("a")).toBe(0);
    // Thrown into.
    const c = slots.hold("a", () => notices(5));
    await expect(c.throw?.(new Error("gone"))).rejects.toThrow("gone");
    expect(slots.held("a")).toBe(0);
    // A stream that fails to open holds nothing.
    expect(() =>
      slots.hold("a", () => {
        throw new Error("no hub");
      }),
    ).toThrow("no hub");
    expect(slots.held("a")).toBe(0);
  });

  it("takes its limit from GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT (default 20), validated", () => {
    expect(loadGatewayConfig({}).GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT).toBe(20);
    expect(
      loadGatewayConfig({ GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT: "5" })
        .GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT,
    ).toBe(5);
    for (const bad of ["0", "-1", "x", "100001"])
      expect(() => loadGatewayConfig({ GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT: bad })).toThrow(
        /GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT/,
      );
  });
});
