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
  /** Linked guardians' ids (students only). */
  guardians: readonly string[];
  /** Guardian who granted the portal consent in force; "" when none. */
  portalConsentBy: string;
  /** Schools a staff member works at now: the registering one (until they leave it) and those
   * they were assigned to. */
  staffSchools: readonly string[];
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
  /** Already encrypted under the person's data key. */
  | { type: "ChangePersonalData"; personalData: Buffer }
  | { type: "LinkGuardian"; guardianId: string }
  | { type: "UnlinkGuardian"; guardianId: string }
  | { type: "GrantPortalConsent"; guardianId: string }
  | { type: "WithdrawPortalConsent"; guardianId: string }
  /** Already encrypted under the person's data key. */
  | { type: "AssignPortalId"; portalId: Buffer }
  | { type: "AssignStaffToSchool"; schoolId: string; municipalityId: string }
  | { type: "UnassignStaffFromSchool"; schoolId: string; municipalityId: string }
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
  guardians: [],
  portalConsentBy: "",
  staffSchools: [],
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
        staffSchools: e.value.kind === PersonKind.PERSON_KIND_STAFF ? [e.value.schoolId] : [],
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
    case "GuardianLinked":
      return { ...state, guardians: [...state.guardians, e.value.guardianId] };
    case "GuardianUnlinked":
      return {
        ...state,
        guardians: state.guardians.filter((g) => g !== e.value.guardianId),
        portalConsentBy: state.portalConsentBy === e.value.guardianId ? "" : state.portalConsentBy,
      };
    case "PortalConsentGranted":
      return { ...state, portalConsentBy: e.value.guardianId };
    case "PortalConsentWithdrawn":
      return { ...state, portalConsentBy: "" };
    case "StaffAssignedToSchool":
      return { ...state, staffSchools: [...state.staffSchools, e.value.schoolId] };
    case "StaffUnassignedFromSchool":
      return {
        ...state,
        staffSchools: state.staffSchools.filter((s) => s !== e.value.schoolId),
      };
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
      return [newEvent("PersonErased", { personId, ...currentSchoolOf(state) })];
    case "ChangePersonalData":
      return [
        newEvent("PersonalDataChanged", {
          personId,
          personalData: command.personalData,
          ...currentSchoolOf(state),
        }),
      ];
    case "AssignStaffToSchool":
      if (state.kind !== PersonKind.PERSON_KIND_STAFF) {
        throw refused("person_id", "is not a staff member");
      }
      if (state.staffSchools.includes(command.schoolId)) {
        throw refused("school_id", "is already one of the staff member's schools");
      }
      return [
        newEvent("StaffAssignedToSchool", {
          personId,
          schoolId: command.schoolId,
          municipalityId: command.municipalityId,
        }),
      ];
    case "UnassignStaffFromSchool":
      if (state.kind !== PersonKind.PERSON_KIND_STAFF) {
        throw refused("person_id", "is not a staff member");
      }
      if (!state.staffSchools.includes(command.schoolId)) {
        throw refused("school_id", "is not one of the staff member's schools");
      }
      // Someone must hold every person: a staff member who leaves altogether keeps their last
      // school (their account is disabled or the person erased instead).
      if (state.staffSchools.length === 1) {
        throw refused("school_id", "is the staff member's only school");
      }
      return [
        newEvent("StaffUnassignedFromSchool", {
          personId,
          schoolId: command.schoolId,
          municipalityId: command.municipalityId,
        }),
      ];
    default:
      if (state.kind !== PersonKind.PERSON_KIND_STUDENT) {
        throw refused(
          command.type.endsWith("Student") ? "person_id" : "student_id",
          "is not a student",
        );
      }
      return decideStudent(command, state);
  }
}

type StudentCommand = Extract<
  PersonCommand,
  {
    type:
      | "LinkGuardian"
      | "UnlinkGuardian"
      | "GrantPortalConsent"
      | "WithdrawPortalConsent"
      | "AssignPortalId"
      | "EnrollStudent"
      | "TransferStudent"
      | "WithdrawStudent";
  }
>;

/** Rules of guardians, consent and the portal id; a student's enrollment. */
function decideStudent(command: StudentCommand, state: PersonState): NewEvent[] {
  const ids = { personId: state.personId, ...currentSchoolOf(state) };
  switch (command.type) {
    case "LinkGuardian":
      if (state.guardians.includes(command.guardianId)) {
        throw refused("guardian_id", "is already linked to the student");
      }
      return [newEvent("GuardianLinked", { ...ids, guardianId: command.guardianId })];
    case "UnlinkGuardian":
      if (!state.guardians.includes(command.guardianId)) {
        throw refused("guardian_id", "is not linked to the student");
      }
      return [newEvent("GuardianUnlinked", { ...ids, guardianId: command.guardianId })];
    case "GrantPortalConsent":
      if (!state.guardians.includes(command.guardianId)) {
        throw refused("guardian_id", "is not a guardian of the student");
      }
      if (state.portalConsentBy !== "") throw refused("student_id", "already has portal consent");
      return [newEvent("PortalConsentGranted", { ...ids, guardianId: command.guardianId })];
    case "WithdrawPortalConsent":
      if (!state.guardians.includes(command.guardianId)) {
        throw refused("guardian_id", "is not a guardian of the student");
      }
      if (state.portalConsentBy === "") {
        throw refused("student_id", "has no portal consent to withdraw");
      }
      return [newEvent("PortalConsentWithdrawn", { ...ids, guardianId: command.guardianId })];
    case "AssignPortalId":
      return [newEvent("PortalIdAssigned", { ...ids, portalId: command.portalId })];
    default:
      return decideEnrollment(command, state.enrollments, state.personId);
  }
}

export const personDecider: Decider<PersonState, PersonCommand> = {
  initialState: initialPersonState,
  evolve: evolvePerson,
  decide: decidePerson,
};

/**
 * The school a person's events are routed under: a pupil's current class group's school, else
 * the school that registered them.
 */
export function currentSchoolOf(state: PersonState): { schoolId: string; municipalityId: string } {
  const current = state.enrollments.find((p) => p.to === "");
  return current
    ? { schoolId: current.schoolId, municipalityId: current.municipalityId }
    : { schoolId: state.schoolId, municipalityId: state.municipalityId };
}
