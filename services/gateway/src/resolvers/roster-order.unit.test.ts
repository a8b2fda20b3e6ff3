import { type Person, PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import { describe, expect, it } from "vitest";
import type { GatewayContext } from "../context.js";
import { alphabeticalPupils } from "./roster-order.js";

const pupil = (personId: string, name?: [string, string, string], erased = false): Person => ({
  personId,
  kind: PersonKind.PERSON_KIND_STUDENT,
  schoolId: "s1",
  municipalityId: "m1",
  erased,
  legalHold: false,
  portalConsent: false,
  portalId: "",
  personalDataNamesOnly: false,
  currentSchoolIds: ["s1"],
  ...(name
    ? {
        personalData: {
          familyName: name[0],
          givenName: name[1],
          patronymic: name[2],
          birthDate: "2015-01-01",
          sex: 0,
          snils: "",
          contacts: [],
        },
      }
    : {}),
});

/** The name fields' loaders over these people; `failing` makes the names' load throw. */
function contextWith(people: Person[], failing = false): GatewayContext {
  const byId = new Map(people.map((p) => [p.personId, p]));
  const many = async (ids: readonly string[]) => ids.map((id) => byId.get(id) ?? null);
  return {
    caller: { kind: "user", accountId: "a", personId: "teacher", grants: [], token: "" },
    regionId: "74",
    loaders: {
      people: { loadMany: many },
      personalData: {
        loadMany: failing
          ? async () => {
              throw new Error("identity is down");
            }
          : many,
      },
    },
  } as unknown as GatewayContext;
}

const PEOPLE = [
  pupil("enrolled-1", ["Яковлева", "Анна", "Сергеевна"]),
  pupil("enrolled-2", ["Ёлкин", "Пётр", ""]),
  pupil("enrolled-3", undefined, true),
  pupil("enrolled-4", ["Ежов", "Иван", "Петрович"]),
  pupil("enrolled-5", ["Ежов", "Иван", "Андреевич"]),
  pupil("enrolled-6", ["Абрамов", "Олег", "Ильич"]),
];
const ids = PEOPLE.map((p) => p.personId);
const journalClaim = "TEACHER@school:s1";

describe("alphabeticalPupils", () => {
  it("orders by family name, given name and patronymic (Е before Ё), the nameless last", async () => {
    expect(await alphabeticalPupils(contextWith(PEOPLE), ids, journalClaim)).toEqual([
      "enrolled-6", // Абрамов
      "enrolled-5", // Ежов Иван Андреевич
      "enrolled-4", // Ежов Иван Петрович
      "enrolled-2", // Ёлкин
      "enrolled-1", // Яковлева
      "enrolled-3", // erased
    ]);
  });

  it("keeps reporting's order when the caller may not read the names", async () => {
    // No authorized path and no role: the first name check refuses.
    expect(await alphabeticalPupils(contextWith(PEOPLE), ids, "")).toEqual(ids);
  });

  it("keeps reporting's order when the names cannot be read", async () => {
    expect(await alphabeticalPupils(contextWith(PEOPLE, true), ids, journalClaim)).toEqual(ids);
    expect(await alphabeticalPupils(contextWith(PEOPLE.slice(1)), ids, journalClaim)).toEqual(ids);
  });
});
