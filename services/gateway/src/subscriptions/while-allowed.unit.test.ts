import { describe, expect, it } from "vitest";
import { deferred, innerStream as inner, warnings } from "../test-support/streams.js";
import { whileAllowed } from "./while-allowed.js";

describe("whileAllowed", () => {
  it("hands on notices the check allows and ends with the refusal's own error", async () => {
    const { it: stream, log } = inner();
    let allowed = true;
    const s = whileAllowed(stream, async () => {
      if (!allowed) throw new Error("FORBIDDEN");
    });
    expect(await s.next()).toEqual({ value: 1, done: false });
    allowed = false;
    await expect(s.next()).rejects.toThrow("FORBIDDEN");
    expect(log).toEqual(["return"]);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it("keeps the refusal when ending the inner stream fails too, and warns of that failure", async () => {
    const { it: stream, log } = inner({ returnFails: true });
    const { seen, logger } = warnings();
    const s = whileAllowed(
      stream,
      async () => {
        throw new Error("FORBIDDEN");
      },
      logger,
    );
    await expect(s.next()).rejects.toThrow("FORBIDDEN");
    expect(log).toEqual(["return"]);
    expect(seen).toEqual(["subscription's notice stream failed to end"]);
  });

  it("throw() ends the inner stream (its slot and listener), with or without a throw of its own", async () => {
    const plain = inner();
    const s = whileAllowed(plain.it, async () => {});
    await expect(s.throw?.(new Error("client gone"))).rejects.toThrow("client gone");
    expect(plain.log).toEqual(["return"]);
    expect(await s.next()).toEqual({ value: undefined, done: true });

    const forwarding = inner({ withThrow: true, returnFails: true });
    const t = whileAllowed(forwarding.it, async () => {});
    await expect(t.throw?.(new Error("client gone"))).rejects.toThrow("client gone");
    expect(forwarding.log).toEqual(["throw client gone", "return"]);
  });

  it("answers done, not the notice, to a next() whose check was running when return() came", async () => {
    const { it: stream } = inner();
    const gate = deferred();
    const s = whileAllowed(stream, () => gate.promise);
    const pending = s.next();
    // The check has started (the inner stream answered first).
    await new Promise((r) => setTimeout(r, 5));
    expect(await s.return?.()).toEqual({ value: undefined, done: true });
    gate.resolve();
    expect(await pending).toEqual({ value: undefined, done: true });

    // A check failing after return() is nobody's error any more.
    const failing = deferred();
    const t = whileAllowed(inner().it, () => failing.promise);
    const waiting = t.next();
    await new Promise((r) => setTimeout(r, 5));
    await t.return?.();
    failing.reject(new Error("UNAVAILABLE"));
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});
