import { randomUUID } from "node:crypto";
import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { newEvent } from "../domain/events.js";
import { streamIds } from "../domain/stream-ids.js";
import { cmd, expectRefused, givenSchool, useIdentity } from "../test-support/in-process.js";
import { runPlan } from "./run-command.js";

const t = useIdentity("identity_run_plan");

/** A class group opened at the school as 5 `letter` (a stream and a class_groups row). */
const opening = (school: { schoolId: string; municipalityId: string }, letter: string) => {
  const classGroupId = randomUUID();
  return {
    streamId: streamIds.classGroup(classGroupId),
    expected: "no_stream" as const,
    events: [
      newEvent("ClassGroupOpened", {
        classGroupId,
        ...school,
        academicYear: { startYear: 2026 },
        gradeLevel: 5,
        letter,
        homeroomTeacherId: "",
      }),
    ],
  };
};
const rowsOf = async (schoolId: string) =>
  (
    await t.deps.store.pool.query(
      "SELECT letter FROM class_groups WHERE school_id = $1 ORDER BY letter",
      [schoolId],
    )
  ).rows;

describe("runPlan", () => {
  it("appends the streams with events, stamped with the command id, with the read models and alsoWrite; a retry replays, another payload is refused", async () => {
    const school = await givenSchool(t.deps);
    const commandId = cmd();
    const [a, read] = [opening(school, "А"), opening(school, "Б")];
    let alsoWritten = 0;
    const run = (payload: unknown) =>
      runPlan(t.deps.store, {
        commandId,
        payload,
        metadata: { actor: { id: "admin" } },
        plan: async () => ({
          appends: [a, { ...read, events: [] }],
          result: "opened",
        }),
        alsoWrite: async (_client, events) => {
          alsoWritten += events.length;
        },
      });
    expect(await run({ p: 1 })).toEqual({ result: "opened", replayed: false });
    const [stored] = await t.deps.store.readStream(a.streamId);
    expect(stored!.metadata).toEqual({ actor: { id: "admin" }, commandId });
    expect(await rowsOf(school.schoolId)).toEqual([{ letter: "А" }]);
    expect(alsoWritten).toBe(1);

    expect(await run({ p: 1 })).toEqual({ result: "opened", replayed: true });
    await expectRefused(t.deps, () => run({ p: 2 }), "invalid_argument", "command_id");
    expect(alsoWritten).toBe(1);
  });

  it("a read model's unique rule lost to a concurrent command is its refusal; nothing is written", async () => {
    const school = await givenSchool(t.deps);
    await runPlan(t.deps.store, {
      commandId: cmd(),
      payload: {},
      plan: async () => ({ appends: [opening(school, "В")], result: null }),
    });
    const second = opening(school, "В");
    await expectRefused(
      t.deps,
      () =>
        runPlan(t.deps.store, {
          commandId: cmd(),
          payload: {},
          plan: async () => ({ appends: [second], result: null }),
        }),
      "failed_precondition",
      "letter",
    );
    expect(await t.deps.store.streamVersion(second.streamId)).toBe(0);
  });

  it("re-plans on a stale version and gives up after 5 attempts with a conflict", async () => {
    const school = await givenSchool(t.deps);
    const a = opening(school, "Г");
    let plans = 0;
    const err = await runPlan(t.deps.store, {
      commandId: cmd(),
      payload: {},
      plan: async () => {
        plans++;
        // The stream is opened by another command after every read of it.
        if (plans === 1) await t.deps.store.append(a.streamId, "no_stream", a.events);
        return { appends: [a], result: null };
      },
    }).catch((e: unknown) => e);
    expect(plans).toBe(5);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ kind: "conflict" });
    expect((err as Error).message).toContain("changed concurrently on each of 5 attempts");
  });
});
