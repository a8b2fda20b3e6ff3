import { type PrivatePostgres, startPrivatePostgres } from "@otmetka/testing";
import { afterAll, describe, expect, it } from "vitest";
import type { Checkpoint } from "./checkpoint.js";
import { EventStore } from "./event-store.js";
import { migrate } from "./test-support/store.js";

describe("checkpoints across restarts", () => {
  let server: PrivatePostgres | undefined;
  afterAll(async () => {
    await server?.dispose();
  });

  it("resumes readAll from a stored checkpoint string with a new store, after a server crash", async () => {
    server = await startPrivatePostgres();
    await migrate(server.url);
    let store = EventStore.connect({ connectionString: server.url, max: 2 });
    const append = (i: number) => store.append(`s-${i % 3}`, "any", [{ type: "N", data: { i } }]);
    for (let i = 0; i < 10; i++) await append(i);
    const page = await store.readAll(undefined, 6);
    const stored: string = page.checkpoint; // what a consumer writes to its checkpoint table
    await store.close();

    await server.kill();
    await server.restart();

    store = EventStore.connect({ connectionString: server.url, max: 2 });
    for (let i = 10; i < 13; i++) await append(i);
    const rest = await store.readAll(stored as Checkpoint, 100);
    expect(rest.events.map((e) => (e.data as { i: number }).i)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    // Transaction ids keep growing across the crash, so new events sort after old ones.
    expect(BigInt(rest.events[4]!.transactionId)).toBeGreaterThan(
      BigInt(rest.events[3]!.transactionId),
    );
    expect((await store.readAll(rest.checkpoint, 100)).events).toEqual([]);
    await store.close();
  });
});
