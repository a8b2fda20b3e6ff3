import { describe, expect, it } from "vitest";
import { NoticeHub } from "./notices.js";

const journal = (id: string, checkpoints?: unknown) => ({ kind: "journal", id, checkpoints });

describe("NoticeHub.stream", () => {
  it("coalesces a notice with one of the same kind and id still waiting: 100 queued, one read", async () => {
    const hub = new NoticeHub();
    const stream = hub.stream((n) => n.kind === "journal");
    for (let i = 0; i < 100; i++) hub.deliver(journal("j1", i));
    hub.deliver({ kind: "diary", id: "j1" });
    const first = await stream.next();
    // The latest of them (its checkpoints), at the place of the first.
    expect(first).toEqual({ value: journal("j1", 99), done: false });
    // Nothing else waits: the next read waits for the next notice.
    let second: unknown;
    const pending = stream.next().then((r) => (second = r));
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBeUndefined();
    hub.deliver(journal("j1"));
    await pending;
    expect(second).toEqual({ value: journal("j1"), done: false });
    await stream.return?.();
  });

  it("keeps notices of different ids and their order; a notice already read is not merged", async () => {
    const hub = new NoticeHub();
    const stream = hub.stream(() => true);
    hub.deliver(journal("a"));
    hub.deliver(journal("b"));
    hub.deliver(journal("a"));
    hub.deliver({ kind: "diary", id: "a" });
    const read = async () => (await stream.next()).value;
    expect(await read()).toEqual(journal("a"));
    // "a" was handed on: a new one after it is queued again.
    hub.deliver(journal("a"));
    expect(await read()).toEqual(journal("b"));
    expect(await read()).toEqual({ kind: "diary", id: "a" });
    expect(await read()).toEqual(journal("a"));
    await stream.return?.();
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it("drops the oldest of more than 100 different waiting notices", async () => {
    const hub = new NoticeHub();
    const stream = hub.stream(() => true);
    for (let i = 0; i < 101; i++) hub.deliver(journal(`j${i}`));
    expect((await stream.next()).value).toEqual(journal("j1"));
    await stream.return?.();
  });
});
