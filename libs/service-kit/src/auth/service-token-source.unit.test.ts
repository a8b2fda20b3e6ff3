import { describe, expect, it } from "vitest";
import { manualClock } from "../clock.js";
import { createServiceTokenSource } from "./service-token-source.js";

describe("service token source", () => {
  it("shares one fetch, reuses the token and renews it before it expires", async () => {
    const clock = manualClock(new Date("2026-09-01T08:00:00Z"));
    let issued = 0;
    const source = createServiceTokenSource(
      async () => {
        issued += 1;
        return { token: `t${issued}`, expiresAt: new Date(clock.now().getTime() + 600_000) };
      },
      { clock, renewBeforeMs: 60_000 },
    );
    expect(await Promise.all([source.token(), source.token()])).toEqual(["t1", "t1"]);
    clock.advance(539_000);
    expect(await source.token()).toBe("t1");
    clock.advance(2_000);
    expect(await source.token()).toBe("t2");
    expect(issued).toBe(2);
  });
});
