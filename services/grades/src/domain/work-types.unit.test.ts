import type { RecordedEvent } from "@otmetka/eventstore";
import { describe, expect, it } from "vitest";
import { newEvent } from "./events.js";
import { workTypeTableDecider as d, type SetWorkTypeWeightsCommand } from "./work-types.js";

const set = (weights: SetWorkTypeWeightsCommand["weights"]): SetWorkTypeWeightsCommand => ({
  schoolId: "s1",
  municipalityId: "m1",
  weights,
  authorId: "a1",
});
const recorded = (e: { type: string; data: unknown }) => e as unknown as RecordedEvent;

describe("work-type table decider", () => {
  it("sets a first table, even the defaults; refuses the table in force in any order", () => {
    const first = set([
      { workType: "ORAL", weight: 1 },
      { workType: "TEST", weight: 3 },
    ]);
    const events = d.decide(first, d.initialState());
    expect(events).toEqual([newEvent("WorkTypeWeightsSet", first)]);
    const state = d.evolve(d.initialState(), recorded(events[0]!));
    expect(() =>
      d.decide(
        set([
          { workType: "TEST", weight: 3 },
          { workType: "ORAL", weight: 1 },
        ]),
        state,
      ),
    ).toThrow("weights: [weights_unchanged]");
    expect(d.decide(set([{ workType: "ORAL", weight: 1 }]), state)).toHaveLength(1);
    expect(d.decide(set([...first.weights, { workType: "LAB", weight: 2 }]), state)).toHaveLength(
      1,
    );
  });
});
