import { describe, expect, it } from "vitest";
import { openClassGroup } from "../commands/class-groups.js";
import { enrollStudent, transferStudent } from "../commands/enrollment.js";
import { linkGuardian } from "../commands/guardians.js";
import { erasePerson, registerPerson } from "../commands/people.js";
import { PersonKind } from "../domain/person.js";
import {
  cmd,
  givenSchool,
  personalData,
  snapshotTables,
  useIdentity,
} from "../test-support/in-process.js";
import { READ_MODEL_TABLES, rebuildReadModels } from "./rebuild.js";

const t = useIdentity("identity_rebuild");

describe("read model rebuild", () => {
  it("replays the log into the same tables, name index and erasures included", async () => {
    const d = t.deps;
    const a = await givenSchool(d);
    const b = await givenSchool(d);
    const reg = (kind: PersonKind, familyName: string) =>
      registerPerson(d, {
        commandId: cmd(),
        kind,
        schoolId: a.schoolId,
        personalData: personalData({ familyName }),
      }).then((r) => r.personId);
    const pupil = await reg(PersonKind.PERSON_KIND_STUDENT, "Восстановлева");
    const erased = await reg(PersonKind.PERSON_KIND_STUDENT, "Стёртова");
    const mother = await reg(PersonKind.PERSON_KIND_GUARDIAN, "Восстановлева");
    await linkGuardian(d, { commandId: cmd(), studentId: pupil, guardianId: mother });
    const open = (schoolId: string) =>
      openClassGroup(d, {
        commandId: cmd(),
        schoolId,
        academicYear: { startYear: 2026 },
        gradeLevel: 3,
        letter: "А",
        homeroomTeacherId: "",
      }).then((r) => r.classGroupId);
    const g1 = await open(a.schoolId);
    const g2 = await open(b.schoolId);
    await enrollStudent(d, {
      commandId: cmd(),
      personId: pupil,
      classGroupId: g1,
      effectiveDate: "2026-09-01",
    });
    await transferStudent(d, {
      commandId: cmd(),
      personId: pupil,
      toClassGroupId: g2,
      effectiveDate: "2026-10-01",
    });
    await erasePerson(d, { commandId: cmd(), personId: erased });

    const before = await snapshotTables(d, READ_MODEL_TABLES);
    const { events } = await rebuildReadModels(d.store, d);
    expect(events).toBeGreaterThan(10);
    expect(await snapshotTables(d, READ_MODEL_TABLES)).toEqual(before);
  });
});
