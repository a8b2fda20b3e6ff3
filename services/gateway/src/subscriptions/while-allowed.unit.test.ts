import { describe, expect, it } from "vitest";
import { whileAllowed } from "./while-allowed.js";

/** An inner stream of notices 1, 2, 3… that records how it was ended. */
function inner(o: { returnFails?: boolean; withThrow?: boolean } = {}) {
  const log: string[] = [];
  let n = 0;
  const it: AsyncIterator<number> = {
    async next() {
      return { value: ++n, done: false };
    },
    async return() {
      log.push("return");
      if (o.returnFails) throw new Error("return failed");
      return { value: undefined, done: true };
    },
  };
  if (o.withThrow)
    it.throw = async (err?: unknown) => {
      log.push(`throw ${(err as Error).message}`);
      throw err;
    };
  return { it, log };
}

const deferred = () => {
  let resolve: () => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

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

  it("keeps the refusal when ending the inner stream fails too", async () => {
    const { it: stream, log } = inner({ returnFails: true });
    const s = whileAllowed(stream, async () => {
      throw new Error("FORBIDDEN");
    });
    await expect(s.next()).rejects.toThrow("FORBIDDEN");
    expect(log).toEqual(["return"]);
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
