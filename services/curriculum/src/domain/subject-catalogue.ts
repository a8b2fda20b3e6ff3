import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { quoteInput } from "@otmetka/service-kit";
import { invalidInput, refused } from "./errors.js";
import { eventName, type Grading, newEvent, type SubjectAdded } from "./events.js";
import { checkText, TEXT_LIMITS } from "./text.js";

/*
 * The regional catalogue is one stream; each school's own additions are another. Ids carry
 * the scope (`MATH`, `<school>/ROBOTICS`), so a school code never shadows a regional one.
 */
export const REGIONAL_CATALOGUE = "subjects-region";
export const catalogueStreamId = (schoolId: string) =>
  schoolId === "" ? REGIONAL_CATALOGUE : `subjects-${schoolId}`;
export const subjectIdOf = (schoolId: string, code: string) =>
  schoolId === "" ? code : `${schoolId}/${code}`;

const CODE = /^[A-Z][A-Z0-9_-]{0,19}$/;
const GRADINGS: readonly Grading[] = ["GRADING_FIVE_POINT", "GRADING_PASS_FAIL"];

export interface CatalogueState {
  subjects: Map<string, SubjectAdded>;
}

export interface AddSubject {
  schoolId: string;
  municipalityId: string;
  code: string;
  name: string;
  grading: string;
  /** The regional catalogue, for a school addition: its codes are taken. */
  regional?: CatalogueState;
}

export const catalogueDecider: Decider<CatalogueState, AddSubject> = {
  initialState: () => ({ subjects: new Map() }),
  evolve(state, event: RecordedEvent) {
    if (eventName(event.type) !== "SubjectAdded") return state;
    const s = event.data as SubjectAdded;
    return { subjects: new Map(state.subjects).set(s.code, s) };
  },
  decide(c, state): NewEvent[] {
    if (!CODE.test(c.code)) {
      throw invalidInput(
        "code",
        `must be 1-20 upper-case Latin letters, digits, '_' or '-' starting with a letter, got ${quoteInput(c.code)}`,
      );
    }
    const name = checkText("name", c.name, { max: TEXT_LIMITS.name });
    if (!GRADINGS.includes(c.grading as Grading)) {
      throw invalidInput("grading", "must be GRADING_FIVE_POINT or GRADING_PASS_FAIL");
    }
    if (state.subjects.has(c.code)) throw refused("code", `${c.code} is already in this catalogue`);
    if (c.regional?.subjects.has(c.code))
      throw refused("code", `${c.code} is a regional subject; a school adds only its own codes`);
    const lower = name.toLowerCase();
    const sameName = [...state.subjects.values()].find((s) => s.name.toLowerCase() === lower);
    if (sameName)
      throw refused("name", `"${name}" is already subject ${sameName.code} in this catalogue`);
    return [
      newEvent("SubjectAdded", {
        subjectId: subjectIdOf(c.schoolId, c.code),
        code: c.code,
        name,
        grading: c.grading as Grading,
        schoolId: c.schoolId,
        municipalityId: c.municipalityId,
      }),
    ];
  },
};
