import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { PersonKind } from "@otmetka/proto/identity/events/v1/events";
import {
  decideEnrollment,
  type EnrollmentCommand,
  type EnrollmentPeriod,
  evolveEnrollment,
} from "./enrollment.js";
import { refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

export { PersonKind };

export interface PersonState {
  registered: boolean;
  personId: string;
  kind: PersonKind;
  schoolId: string;
  municipalityId: string;
  /** The reason of the current legal hold; "" when there is none. */
  legalHold: string;
  erased: boolean;
  /** Enrollment history, oldest first (students only). */
  enrollments: readonly EnrollmentPeriod[];
}

export type PersonCommand =
  | {
      type: "RegisterPerson";
      personId: string;
      kind: PersonKind;
      schoolId: string;
      municipalityId: string;
      /** Already encrypted under the person's new data key: decide stays pure. */
      personalData: Buffer;
    }
  | { type: "PlaceLegalHold"; reason: string }
  | { type: "LiftLegalHold"; reason: string }
  | { type: "ErasePerson" }
  | EnrollmentCommand;

export const initialPersonState = (): PersonState => ({
  registered: false,
  personId: "",
  kind: PersonKind.PERSON_KIND_UNSPECIFIED,
  schoolId: "",
  municipalityId: "",
  legalHold: "",
  erased: false,
  enrollments: [],
});

export function evolvePerson(state: PersonState, event: RecordedEvent | NewEvent): PersonState {
  const e = decodeEvent(event);
  switch (e.name) {
    case "PersonRegistered":
      return {
        ...state,
        registered: true,
        personId: e.value.personId,
        kind: e.value.kind,
        schoolId: e.value.schoolId,
        municipalityId: e.value.municipalityId,
      };
    case "LegalHoldPlaced":
      return { ...state, legalHold: e.value.reason };
    case "LegalHoldLifted":
      return { ...state, legalHold: "" };
    case "PersonErased":
      return { ...state, erased: true };
    case "StudentEnrolled":
    case "StudentTransferred":
    case "StudentWithdrawn":
      return { ...state, enrollments: evolveEnrollment(state.enrollments, e) };
    default:
      return state;
  }
}

export function decidePerson(command: PersonCommand, state: PersonState): NewEvent[] {
  if (command.type === "RegisterPerson") {
    if (state.registered) throw refused("person_id", "is already registered");
    const { type: _, ...fields } = command;
    return [newEvent("PersonRegistered", fields)];
  }
  if (!state.registered) throw refused("person_id", "is not registered");
  if (state.erased) throw refused("person_id", "is erased");
  const personId = state.personId;
  switch (command.type) {
    case "PlaceLegalHold":
      if (state.legalHold !== "") throw refused("person_id", "is already under a legal hold");
      return [newEvent("LegalHoldPlaced", { personId, reason: command.reason })];
    case "LiftLegalHold":
      if (state.legalHold === "") throw refused("person_id", "is not under a legal hold");
      return [newEvent("LegalHoldLifted", { personId, reason: command.reason })];
    case "ErasePerson":
      if (state.legalHold !== "") {
        throw refused(
          "person_id",
          `is under a legal hold (${state.legalHold}); lift it before erasing`,
        );
      }
      return [
        newEvent("PersonErased", {
          personId,
          schoolId: state.schoolId,
          municipalityId: state.municipalityId,
        }),
      ];
    default:
      if (state.kind !== PersonKind.PERSON_KIND_STUDENT)
        throw refused("person_id", "is not a student");
      return decideEnrollment(command, state.enrollments, personId);
  }
}

export const personDecider: Decider<PersonState, PersonCommand> = {
  initialState: initialPersonState,
  evolve: evolvePerson,
  decide: decidePerson,
};
