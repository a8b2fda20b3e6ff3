import type { NewEvent } from "@otmetka/eventstore";
import { describe, expect, it } from "vitest";
import { decodeEvent } from "./events.js";
import { type PersonCommand, PersonKind, personDecider } from "./person.js";

const run = (commands: PersonCommand[]) => {
  let state = personDecider.initialState();
  const events: NewEvent[] = [];
  for (const c of commands) {
    for (const e of personDecider.decide(c, state)) {
      events.push(e);
      state = personDecider.evolve(state, e as never);
    }
  }
  return { state, events: events.map(decodeEvent) };
};

const register: PersonCommand = {
  type: "RegisterPerson",
  personId: "p1",
  kind: PersonKind.PERSON_KIND_STUDENT,
  schoolId: "s1",
  municipalityId: "m1",
  personalData: Buffer.from("ciphertext"),
};

describe("person events are routed under the pupil's current school", () => {
  it("uses the registering school before enrollment, the class group's school after it", () => {
    const { events } = run([
      register,
      { type: "LinkGuardian", guardianId: "g1" },
      {
        type: "EnrollStudent",
        effectiveDate: "2026-09-01",
        target: {
          classGroupId: "c1",
          schoolId: "s2",
          municipalityId: "m2",
          academicYear: 2026,
          gradeLevel: 4,
          classGroupClosed: false,
          schoolClosedOn: "",
        },
      },
      { type: "LinkGuardian", guardianId: "g2" },
      { type: "ErasePerson" },
    ]);
    const tokens = events.map((e) => {
      const v = e.value as { schoolId?: string; municipalityId?: string };
      return `${e.name}@${v.municipalityId}/${v.schoolId}`;
    });
    expect(tokens).toEqual([
      "PersonRegistered@m1/s1",
      "GuardianLinked@m1/s1",
      "StudentEnrolled@m2/s2",
      "GuardianLinked@m2/s2",
      "PersonErased@m2/s2",
    ]);
  });
});
