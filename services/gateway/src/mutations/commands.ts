import * as curriculumApi from "@otmetka/proto/curriculum/v1/curriculum_service";
import * as gradesApi from "@otmetka/proto/grades/v1/grades_service";
import * as authApi from "@otmetka/proto/identity/v1/auth_service";
import * as identityApi from "@otmetka/proto/identity/v1/identity_service";

/**
 * Who may attempt a command, as far as the gateway can tell cheaply (authz/mutations.ts).
 * The services decide for real: this only refuses obvious out-of-scope calls early.
 * - public: no token (login, refresh, logout carry their credentials in the input)
 * - self: any authenticated caller (the service checks the account is theirs)
 * - journal: teachers and school admins of the journal's school
 * - lesson: teachers and admins of the input's school
 * - admin: platform, ministry, municipal and school admins (school ones of the input's school)
 */
export type Access = "public" | "self" | "journal" | "lesson" | "admin";

export type Service = "auth" | "identity" | "curriculum" | "grades";

export interface Codec {
  fromJSON(object: unknown): unknown;
  toJSON(message: unknown): unknown;
  fromPartial(object: object): unknown;
}

export interface CommandSpec {
  /** The GraphQL mutation field. */
  field: string;
  service: Service;
  /** The gRPC method, as in the .proto file. */
  rpc: string;
  access: Access;
  doc: string;
}

const MODULES: Record<Service, Record<string, unknown>> = {
  auth: authApi,
  identity: identityApi,
  curriculum: curriculumApi,
  grades: gradesApi,
};

const c = (field: string, service: Service, rpc: string, access: Access, doc: string) => ({
  field,
  service,
  rpc,
  access,
  doc,
});

/** Every command the gateway forwards (issue 13), in schema order. */
export const COMMANDS: readonly CommandSpec[] = [
  c("login", "auth", "Login", "public", "Signs in with a username and password: a token pair."),
  c("refreshToken", "auth", "Refresh", "public", "Exchanges a refresh token for a new pair."),
  c("logout", "auth", "Logout", "public", "Revokes the refresh token's session family."),
  c("createAccount", "auth", "CreateAccount", "admin", "A user account with a password."),
  c("changePassword", "auth", "ChangePassword", "self", "Changes an account's password."),
  c("grantRole", "auth", "GrantRole", "admin", "Grants a role with its scope to an account."),
  c("revokeRole", "auth", "RevokeRole", "admin", "Revokes a role grant of an account."),
  c("disableAccount", "auth", "DisableAccount", "admin", "Switches an account off at once."),
  c("enableAccount", "auth", "EnableAccount", "admin", "Lets a disabled account log in again."),
  c("deleteAccount", "auth", "DeleteAccount", "admin", "Deletes an account; its username is free."),
  c("recordMark", "grades", "RecordMark", "journal", "Records one mark of a pupil at a lesson."),
  c("recordMarks", "grades", "RecordMarks", "journal", "Records a column of marks at a lesson."),
  c("correctMark", "grades", "CorrectMark", "journal", "Corrects a mark's value, with a reason."),
  c("revokeMark", "grades", "RevokeMark", "journal", "Revokes a mark, with a reason."),
  c("grantExemption", "grades", "GrantExemption", "journal", "Exempts a pupil from a subject."),
  c("recordAttendance", "grades", "RecordAttendance", "journal", "Absences at a lesson."),
  c("excuseAbsence", "grades", "ExcuseAbsence", "journal", "Excuses a pupil's absence."),
  c("assignTermMark", "grades", "SetTermMark", "journal", "Sets a pupil's term or year mark."),
  c("closeTerm", "grades", "CloseTerm", "journal", "Closes a term of a journal or a school."),
  c("reopenTerm", "grades", "ReopenTerm", "journal", "Reopens a closed term."),
  c("setWorkTypeWeights", "grades", "SetWorkTypeWeights", "admin", "A school's work weights."),
  c("conductLesson", "curriculum", "ConductLesson", "lesson", "Marks a lesson conducted."),
  c("cancelLesson", "curriculum", "CancelLesson", "lesson", "Cancels a scheduled lesson."),
  c("moveLesson", "curriculum", "MoveLesson", "lesson", "Moves a lesson to another day or period."),
  c("defineAcademicYear", "curriculum", "DefineAcademicYear", "admin", "A school's year."),
  c("defineTermSystem", "curriculum", "DefineTermSystem", "admin", "Terms of grade levels."),
  c("declareNonSchoolDays", "curriculum", "DeclareNonSchoolDays", "admin", "Holidays."),
  c("setGradeWeekLength", "curriculum", "SetGradeWeekLength", "admin", "Grades' 5- or 6-day week."),
  c("addSubject", "curriculum", "AddSubject", "admin", "A subject (region, municipality, school)."),
  c("assignTeacher", "curriculum", "AssignTeacher", "admin", "A teacher for a class and subject."),
  c("endTeacherAssignment", "curriculum", "EndTeacherAssignment", "admin", "Ends an assignment."),
  c("assignSubstitute", "curriculum", "AssignSubstitute", "admin", "A substitute teacher."),
  c("addTimetableSlot", "curriculum", "AddTimetableSlot", "admin", "A weekly timetable slot."),
  c("endTimetableSlot", "curriculum", "EndTimetableSlot", "admin", "Ends a timetable slot."),
  c("generateLessons", "curriculum", "GenerateLessons", "admin", "Lessons from the timetable."),
  c("draftWorkProgramme", "curriculum", "DraftWorkProgramme", "admin", "A work programme draft."),
  c("approveWorkProgramme", "curriculum", "ApproveWorkProgramme", "admin", "Approves one."),
  c("setStudyPlanHours", "curriculum", "SetStudyPlanHours", "admin", "Study plan hours."),
  c("registerMunicipality", "identity", "RegisterMunicipality", "admin", "A municipality."),
  c("renameMunicipality", "identity", "RenameMunicipality", "admin", "Renames a municipality."),
  c("registerSchool", "identity", "RegisterSchool", "admin", "A school of a municipality."),
  c("renameSchool", "identity", "RenameSchool", "admin", "Renames a school."),
  c("closeSchool", "identity", "CloseSchool", "admin", "Closes a school."),
  c("registerPerson", "identity", "RegisterPerson", "admin", "A pupil, staff member or guardian."),
  c("changePersonalData", "identity", "ChangePersonalData", "admin", "A person's data."),
  c("placeLegalHold", "identity", "PlaceLegalHold", "admin", "Blocks a person's erasure."),
  c("liftLegalHold", "identity", "LiftLegalHold", "admin", "Lifts a legal hold."),
  c("erasePerson", "identity", "ErasePerson", "admin", "Erases a person's personal data."),
  c("openClassGroup", "identity", "OpenClassGroup", "admin", "A class group of a school year."),
  c("renameClassGroup", "identity", "RenameClassGroup", "admin", "Renames a class group."),
  c("assignHomeroomTeacher", "identity", "AssignHomeroomTeacher", "admin", "Homeroom teacher."),
  c("closeClassGroup", "identity", "CloseClassGroup", "admin", "Closes a class group."),
  c("enrollStudent", "identity", "EnrollStudent", "admin", "Enrolls a pupil in a class group."),
  c("transferStudent", "identity", "TransferStudent", "admin", "Transfers a pupil."),
  c("withdrawStudent", "identity", "WithdrawStudent", "admin", "Withdraws a pupil."),
  c("rollOverYear", "identity", "RollOverYear", "admin", "Moves a school to the next year."),
  c("openSubgroup", "identity", "OpenSubgroup", "admin", "A subgroup of a class group."),
  c("addSubgroupMember", "identity", "AddSubgroupMember", "admin", "Adds a pupil to a subgroup."),
  c("removeSubgroupMember", "identity", "RemoveSubgroupMember", "admin", "Removes one."),
  c("linkGuardian", "identity", "LinkGuardian", "admin", "Links a guardian to a pupil."),
  c("unlinkGuardian", "identity", "UnlinkGuardian", "admin", "Unlinks a guardian."),
  c("grantPortalConsent", "identity", "GrantPortalConsent", "admin", "Consent to the portal."),
  c("withdrawPortalConsent", "identity", "WithdrawPortalConsent", "admin", "Withdraws it."),
  c("assignPortalId", "identity", "AssignPortalId", "admin", "A pupil's portal id."),
  c("assignStaffToSchool", "identity", "AssignStaffToSchool", "admin", "Staff to a school."),
  c("unassignStaffFromSchool", "identity", "UnassignStaffFromSchool", "admin", "Staff leaves."),
];

export const PUBLIC_COMMANDS = new Set(
  COMMANDS.filter((x) => x.access === "public").map((x) => x.field),
);

/** The request and response codecs of a command, from the generated module. */
export function codecs(spec: CommandSpec): { request: Codec; response: Codec } {
  const mod = MODULES[spec.service];
  const request = mod[`${spec.rpc}Request`] as Codec | undefined;
  const response = mod[`${spec.rpc}Response`] as Codec | undefined;
  if (!request || !response) throw new Error(`no codecs for ${spec.service}.${spec.rpc}`);
  return { request, response };
}

/** The promise-client method name of an RPC (ts-proto lowercases the first letter). */
export const methodOf = (spec: CommandSpec) => spec.rpc[0]?.toLowerCase() + spec.rpc.slice(1);

const DEFINITIONS: Record<Service, Record<string, { path: string }>> = {
  auth: authApi.AuthServiceService,
  identity: identityApi.IdentityServiceService,
  curriculum: curriculumApi.CurriculumServiceService,
  grades: gradesApi.GradesServiceService,
};

/** The service and method a command calls, as the proto names them (from the gRPC path). */
export function protoMethodOf(spec: CommandSpec): { service: string; method: string } {
  const path = DEFINITIONS[spec.service][methodOf(spec)]?.path;
  const [service = "", method = ""] = path?.slice(1).split("/") ?? [];
  if (!service || !method) throw new Error(`no gRPC method for ${spec.service}.${spec.rpc}`);
  return { service, method };
}
