import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStore } from "./event-store.js";
import { migrate, readAllSettled } from "./test-support/store.js";
import { Upcasters } from "./upcasters.js";

const env = useTestEnvironment({ label: "es_upcast" });
let plain: EventStore;
let upcasting: EventStore;

interface MarkV1 {
  studentId: string;
  mark: number;
}
interface MarkV2 {
  studentId: string;
  mark: { scale: "FIVE_POINT" | "PASS_FAIL"; value: number };
  workType: string;
}

beforeAll(async () => {
  await migrate(env.databaseUrl);
  plain = EventStore.connect({ connectionString: env.databaseUrl, max: 2 });
  const upcasters = new Upcasters().register("MarkRecorded", 1, (data) => {
    const v1 = data as MarkV1;
    return {
      studentId: v1.studentId,
      mark: { scale: "FIVE_POINT", value: v1.mark },
      workType: "UNSPECIFIED",
    } satisfies MarkV2;
  });
  upcasting = EventStore.connect({ connectionString: env.databaseUrl, max: 2, upcasters });
});
afterAll(async () => {
  await plain?.close();
  await upcasting?.close();
});

describe("upcasting on read", () => {
  it("reads an event stored at schema version 1 in the version-2 shape, without rewriting it", async () => {
    await plain.append("journal-u", "no_stream", [
      { type: "MarkRecorded", schemaVersion: 1, data: { studentId: "s1", mark: 4 } },
      {
        type: "MarkRecorded",
        schemaVersion: 2,
        data: { studentId: "s2", mark: { scale: "PASS_FAIL", value: 1 }, workType: "TEST" },
      },
    ]);
    const [old, current] = await upcasting.readStream("journal-u");
    expect(old!.schemaVersion).toBe(2);
    expect(old!.storedSchemaVersion).toBe(1);
    expect(old!.data).toEqual({
      studentId: "s1",
      mark: { scale: "FIVE_POINT", value: 4 },
      workType: "UNSPECIFIED",
    });
    expect(current!.data).toEqual({
      studentId: "s2",
      mark: { scale: "PASS_FAIL", value: 1 },
      workType: "TEST",
    });
    // readAll upcasts too.
    const all = await readAllSettled(upcasting);
    expect(all.events[0]!.data).toEqual(old!.data);
    // The stored row keeps its original shape.
    const { rows } = await plain.pool.query(
      "SELECT schema_version, data FROM eventstore.events WHERE stream_id = 'journal-u' ORDER BY stream_version LIMIT 1",
    );
    expect(rows[0]).toEqual({ schema_version: 1, data: { studentId: "s1", mark: 4 } });
    expect((await plain.readStream("journal-u"))[0]!.data).toEqual({ studentId: "s1", mark: 4 });
  });
});
