import type { Caller } from "@otmetka/service-kit";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CallerAuth } from "../http/gateway.js";
import { innerStream as inner, warnings } from "../test-support/streams.js";
import { whileCallerValid } from "./while-caller-valid.js";

const caller = { accountId: "a1" } as Caller;

/** A token expiring in `expiresIn` ms (none: it does not say), revoked once `revoked` is set. */
function tokenAuth(expiresIn?: number) {
  const state = { revoked: false };
  const auth: CallerAuth = {
    refuseRevoked: () => {
      if (state.revoked) throw new Error("UNAUTHENTICATED revoked");
    },
    expiresAt: () => (expiresIn === undefined ? undefined : Date.now() + expiresIn),
    expired: () => new Error("UNAUTHENTICATED expired"),
  };
  return { auth, state };
}

afterEach(() => vi.useRealTimers());

describe("whileCallerValid", () => {
  it("keeps UNAUTHENTICATED of a revoked token when ending the inner stream fails too, and warns", async () => {
    const { auth, state } = tokenAuth();
    const { it: stream, log } = inner({ returnFails: true });
    const { seen, logger } = warnings();
    const s = whileCallerValid(auth, caller, stream, logger);
    expect(await s.next()).toEqual({ value: 1, done: false });
    state.revoked = true;
    await expect(s.next()).rejects.toThrow("UNAUTHENTICATED revoked");
    expect(log).toEqual(["return"]);
    expect(seen).toEqual(["subscription's notice stream failed to end"]);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it("ends a waiting stream at the token's expiry with UNAUTHENTICATED, once, even when ending it fails", async () => {
    vi.useFakeTimers();
    const { auth } = tokenAuth(1000);
    const { it: stream, log } = inner({ waiting: true, returnFails: true });
    const { seen, logger } = warnings();
    const s = whileCallerValid(auth, caller, stream, logger);
    // Its outcome awaited before the timer fires: a rejection nobody waits for yet is not the point.
    const ended = expect(s.next()).rejects.toThrow("UNAUTHENTICATED expired");
    await vi.advanceTimersByTimeAsync(1000);
    await ended;
    expect(log).toEqual(["return"]);
    expect(seen).toEqual(["subscription's notice stream failed to end"]);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it("throw() ends the inner stream and the expiry timer, with or without a throw of its own", async () => {
    vi.useFakeTimers();
    const plain = inner();
    const s = whileCallerValid(tokenAuth(1000).auth, caller, plain.it);
    await expect(s.throw?.(new Error("client gone"))).rejects.toThrow("client gone");
    expect(plain.log).toEqual(["return"]);
    expect(vi.getTimerCount()).toBe(0);
    expect(await s.next()).toEqual({ value: undefined, done: true });

    const forwarding = inner({ withThrow: true, returnFails: true });
    const t = whileCallerValid(tokenAuth().auth, caller, forwarding.it);
    await expect(t.throw?.(new Error("client gone"))).rejects.toThrow("client gone");
    expect(forwarding.log).toEqual(["throw client gone", "return"]);
  });

  it("answers done, not the notice, to a next() whose notice came after return()", async () => {
    const { it: stream, release } = inner({ waiting: true });
    // An inner stream that still hands its waiting next a notice after being told to end.
    const late: AsyncIterator<number> = {
      next: () => stream.next(),
      return: async () => ({ value: undefined, done: true }),
    };
    const s = whileCallerValid(tokenAuth().auth, caller, late);
    const pending = s.next();
    expect(await s.return?.()).toEqual({ value: undefined, done: true });
    release();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });
});
