import { Kind, parse, type TypeNode } from "graphql";
import { queryTypeDefs } from "../schema/type-defs.js";
import { COMMANDS, protoMethodOf } from "./commands.js";
import { protoRegistry } from "./proto-descriptors.js";
import { commandInputType, commandPayloadType, protoCommandSdl } from "./proto-sdl.js";

/*
 * Every command's input `<Field>Input` and payload `<Field>Payload`. Field names are the proto3
 * JSON names and enum values the proto enum names, so the input graphql-js coerces is the
 * proto3 JSON of the command's gRPC request: commandRequest (fromJSON and its checks) builds
 * the request from it. The payloads are the gRPC responses as ts-proto decodes them (every
 * field present, defaults included).
 * - The journal commands (grades' GradesService and curriculum's ConductLesson) have the
 *   hand-written types below, with the services' rules in their descriptions and non-null
 *   fields (a unit test checks them against the request messages).
 * - The administrative commands (every other) have types generated from the protos'
 *   descriptors (proto-sdl.ts), so they cannot drift from the services' messages.
 */

/** Mutation fields with hand-written input and payload types (the journal commands). */
export const JOURNAL_COMMANDS: ReadonlySet<string> = new Set([
  "recordMark",
  "recordMarks",
  "correctMark",
  "revokeMark",
  "grantExemption",
  "recordAttendance",
  "excuseAbsence",
  "assignTermMark",
  "closeTerm",
  "reopenTerm",
  "setWorkTypeWeights",
  "conductLesson",
]);

/** Mutation fields whose types are generated from the protos (the administrative commands). */
export const ADMIN_COMMANDS: ReadonlySet<string> = new Set(
  COMMANDS.filter((c) => !JOURNAL_COMMANDS.has(c.field)).map((c) => c.field),
);

export const inputTypeOf = commandInputType;
export const payloadTypeOf = commandPayloadType;

const JOURNAL = `"""The journal the command writes to; the caller must teach it (or administer its school)."""
  journal: JournalRefInput!`;
const REPLAYED = `"""True when this commandId ran before: the answer is the first run's, nothing changed now."""
  replayed: Boolean!`;
const REASON = `"""Why (required, 1-500 characters after trimming; free text about the pupil, kept out of the events and erased with the pupil)."""
  reason: String!`;

/** The SDL of the typed command inputs and payloads (descriptions from the protos and the services' rules). */
export const typedCommandTypeDefs = /* GraphQL */ `
"""A mark value as commands take it: the proto enum names (otmetka.grades.events.v1.MarkValue). Five-point journals take ONE..FIVE, pass/fail journals PASS and FAIL; NOT_ATTESTED (н/а) and PASS (зч) are accepted in both. The journal reads marks back as MarkValue."""
enum MarkValueInput {
  """1."""
  MARK_VALUE_ONE
  """2."""
  MARK_VALUE_TWO
  """3."""
  MARK_VALUE_THREE
  """4."""
  MARK_VALUE_FOUR
  """5."""
  MARK_VALUE_FIVE
  """Зачёт (зч)."""
  MARK_VALUE_PASS
  """Незачёт."""
  MARK_VALUE_FAIL
  """Не аттестован (н/а)."""
  MARK_VALUE_NOT_ATTESTED
}

"""Why a pupil missed a lesson, as commands take it (proto otmetka.grades.events.v1.AbsenceReason names): Н, УП, Б; NONE with lateMinutes > 0 is a late arrival only."""
enum AbsenceReasonInput {
  """Present, but late (lateMinutes > 0)."""
  ABSENCE_REASON_NONE
  """Ill (Б)."""
  ABSENCE_REASON_ILLNESS
  """Absent for a valid reason (УП)."""
  ABSENCE_REASON_EXCUSED
  """Absent without a valid reason (Н); teachers may excuse it later (excuseAbsence)."""
  ABSENCE_REASON_UNEXCUSED
}

"""An academic year, 1 September to 31 August ("2026/2027")."""
input AcademicYearInput {
  """Calendar year the academic year starts in (1 September), 2000-2100, e.g. 2026."""
  startYear: Int!
}

"""A journal: class group (or one of its subgroups) x subject x academic year (proto otmetka.grades.v1.Journal)."""
input JournalRefInput {
  """The class group."""
  classGroupId: ID!
  """The subgroup whose journal it is (a foreign language, labour lessons); omit for the whole class group."""
  subgroupId: ID
  """The subject (id or code, e.g. "math")."""
  subjectId: ID!
  """The academic year."""
  academicYear: AcademicYearInput!
}

"""One pupil's mark at a lesson."""
input MarkInput {
  """The pupil, enrolled in the journal's class group (or subgroup) on the lesson's date."""
  studentId: ID!
  """The value, on the journal's scale."""
  value: MarkValueInput!
  """Work type code: ORAL (default), HOMEWORK, INDEPENDENT, TEST, CONTROL or a school's own (upper case, at most 32 characters); its weight comes from the school's table."""
  workType: String
  """Free text about the pupil, at most 2000 characters; kept out of the events."""
  comment: String
}

"""One pupil absent or late at a lesson."""
input AttendanceEntryInput {
  """The pupil, listed once per lesson."""
  studentId: ID!
  """Why absent; ABSENCE_REASON_NONE with lateMinutes > 0 for a late arrival."""
  reason: AbsenceReasonInput!
  """Minutes late, 0-240 (default 0, an absence)."""
  lateMinutes: Int
}

"""A work type and its weight in weighted averages."""
input WorkTypeWeightInput {
  """Work type code (upper case, e.g. ORAL, TEST)."""
  workType: String!
  """Weight, 1-10."""
  weight: Int!
}

"""recordMark (grades RecordMark): one mark of a pupil at a lesson."""
input RecordMarkInput {
  ${JOURNAL}
  """The lesson (conducted or scheduled for today or earlier, in an open term)."""
  lessonId: ID!
  """The mark."""
  mark: MarkInput!
}

"""recordMarks (grades RecordMarks): a whole column, one lesson and many pupils, all or nothing."""
input RecordMarksInput {
  ${JOURNAL}
  """The lesson."""
  lessonId: ID!
  """At least one mark; each pupil at most once."""
  marks: [MarkInput!]!
}

"""correctMark (grades CorrectMark): a mark's new value."""
input CorrectMarkInput {
  ${JOURNAL}
  """The mark (recordMark's markId), not revoked."""
  markId: ID!
  """The new value, on the journal's scale."""
  value: MarkValueInput!
  ${REASON}
}

"""revokeMark (grades RevokeMark): takes a mark back."""
input RevokeMarkInput {
  ${JOURNAL}
  """The mark (recordMark's markId), not revoked."""
  markId: ID!
  ${REASON}
}

"""grantExemption (grades GrantExemption): a pupil is exempt from the subject for some days."""
input GrantExemptionInput {
  ${JOURNAL}
  """The pupil, enrolled in the journal over the whole period."""
  studentId: ID!
  """First day exempt, within the academic year."""
  firstDay: Date!
  """Last day exempt, not before firstDay."""
  lastDay: Date!
  ${REASON}
}

"""recordAttendance (grades RecordAttendance): who was absent or late at a lesson; a later record for the same lesson replaces the list."""
input RecordAttendanceInput {
  ${JOURNAL}
  """The lesson."""
  lessonId: ID!
  """Only the pupils absent or late; omitted or empty when everybody was there."""
  absences: [AttendanceEntryInput!]
}

"""excuseAbsence (grades ExcuseAbsence): excuses a recorded absence."""
input ExcuseAbsenceInput {
  ${JOURNAL}
  """The lesson attendance was recorded for."""
  lessonId: ID!
  """The pupil, recorded absent and not yet excused."""
  studentId: ID!
  """Free text (a certificate's number), at most 2000 characters; kept out of the events."""
  note: String
}

"""assignTermMark (grades SetTermMark): a pupil's term or year mark; changing one is a correction and needs a reason."""
input AssignTermMarkInput {
  ${JOURNAL}
  """The pupil, enrolled today."""
  studentId: ID!
  """Term 1-4, or 0 for the year mark."""
  term: Int!
  """The value, on the journal's scale."""
  value: MarkValueInput!
  """Why, at most 500 characters: required when the pupil already has a mark for the term."""
  reason: String
}

"""closeTerm (grades CloseTerm): closes a term of one journal, or with schoolId and academicYear and no journal, of every journal of the school that year (school admins)."""
input CloseTermInput {
  """The journal; omit it to close the term in every journal of schoolId."""
  journal: JournalRefInput
  """Term 1-4, or 0 for the year."""
  term: Int!
  """Why (required, 1-500 characters)."""
  reason: String!
  """The school, when closing every journal of it (without journal)."""
  schoolId: ID
  """The academic year, with schoolId."""
  academicYear: AcademicYearInput
}

"""reopenTerm (grades ReopenTerm): reopens a closed term of one journal, or with schoolId and academicYear and no journal, of every journal of the school that year (school admins)."""
input ReopenTermInput {
  """The journal; omit it to reopen the term in every journal of schoolId."""
  journal: JournalRefInput
  """Term 1-4, or 0 for the year."""
  term: Int!
  """Why (required, 1-500 characters)."""
  reason: String!
  """The school, when reopening every journal of it (without journal)."""
  schoolId: ID
  """The academic year, with schoolId."""
  academicYear: AcademicYearInput
}

"""setWorkTypeWeights (grades SetWorkTypeWeights): a school's table of work types and weights (replaces the previous one)."""
input SetWorkTypeWeightsInput {
  """The school."""
  schoolId: ID!
  """At least one work type, each once."""
  weights: [WorkTypeWeightInput!]!
}

"""conductLesson (curriculum ConductLesson): marks a scheduled lesson conducted, with its topic and homework."""
input ConductLessonInput {
  """The lesson's school."""
  schoolId: ID!
  """The academic year."""
  academicYear: AcademicYearInput!
  """The lesson's class group."""
  classGroupId: ID!
  """The lesson, scheduled (not cancelled, not conducted yet), dated today or earlier."""
  lessonId: ID!
  """Topic, 1-500 characters on one line."""
  topic: String!
  """An item of the subject's approved work programme the lesson delivers."""
  workProgrammeItemId: ID
  """Homework, at most 4000 characters (line breaks allowed)."""
  homework: String
  """When the homework is due: after the lesson's date; needs homework."""
  homeworkDue: Date
  """Who taught it, a staff member of the school; default the scheduled teacher."""
  conductedBy: ID
}

"""recordMark's answer."""
type RecordMarkPayload {
  ${REPLAYED}
  """The new mark's id (for correctMark, revokeMark)."""
  markId: ID!
  """The weight of the mark's work type in the school's table."""
  weight: Int!
}

"""recordMarks' answer."""
type RecordMarksPayload {
  ${REPLAYED}
  """The new marks' ids, in the order of the input's marks."""
  markIds: [ID!]!
}

"""correctMark's answer."""
type CorrectMarkPayload {
  ${REPLAYED}
}

"""revokeMark's answer."""
type RevokeMarkPayload {
  ${REPLAYED}
}

"""grantExemption's answer."""
type GrantExemptionPayload {
  ${REPLAYED}
  """The exemption's id."""
  exemptionId: ID!
}

"""recordAttendance's answer."""
type RecordAttendancePayload {
  ${REPLAYED}
}

"""excuseAbsence's answer."""
type ExcuseAbsencePayload {
  ${REPLAYED}
}

"""assignTermMark's answer."""
type AssignTermMarkPayload {
  ${REPLAYED}
  """True when the pupil had a mark for the term already (the change was a correction)."""
  corrected: Boolean!
  """The weighted average of the pupil's marks in the term, two decimals, offered to the teacher; null without marks."""
  weightedAverage: String
}

"""closeTerm's answer."""
type CloseTermPayload {
  ${REPLAYED}
  """Journals closed now (1 for one journal)."""
  journals: Int!
  """Journals of the school already closed (0 for one journal)."""
  unchanged: Int!
}

"""reopenTerm's answer."""
type ReopenTermPayload {
  ${REPLAYED}
  """Journals reopened now (1 for one journal)."""
  journals: Int!
  """Journals of the school that were not closed (0 for one journal)."""
  unchanged: Int!
}

"""setWorkTypeWeights' answer."""
type SetWorkTypeWeightsPayload {
  ${REPLAYED}
}

"""conductLesson's answer."""
type ConductLessonPayload {
  ${REPLAYED}
}
`;

const definedNames = (sdl: string) =>
  parse(sdl).definitions.flatMap((d) => ("name" in d && d.name ? [d.name.value] : []));

/** The administrative commands' types, generated once from the protos' descriptors. */
const admin = (() => {
  const registry = protoRegistry();
  const commands = COMMANDS.filter((c) => ADMIN_COMMANDS.has(c.field)).map((spec) => {
    // The method the gRPC client calls (its path), looked up in the descriptors.
    const { service, method } = protoMethodOf(spec);
    const desc = registry.getService(service)?.methods.find((m) => m.name === method);
    if (!desc) throw new Error(`${service}/${method}: not in the proto descriptors`);
    return { field: spec.field, doc: spec.doc, method: desc };
  });
  return protoCommandSdl(registry, commands, {
    reserved: new Set([
      ...definedNames(queryTypeDefs),
      ...definedNames(typedCommandTypeDefs),
      "JSONObject",
      "Mutation",
      "Subscription",
      "ChangeNotice",
    ]),
    // One academic year input for every command (the hand-written one: startYear required).
    reuseInputs: new Map([["otmetka.common.v1.AcademicYear", "AcademicYearInput"]]),
  });
})();

/** The SDL of the administrative commands' inputs and payloads (proto-sdl.ts). */
export const adminCommandTypeDefs = admin.typeDefs;

/** Every object type of a command's answer: payloads and the messages in them. */
export const PAYLOAD_TYPES: readonly string[] = [
  ...[...JOURNAL_COMMANDS].map(payloadTypeOf),
  ...admin.objectTypes,
];

/** Payload fields that differ from the gRPC response: proto's "" for none is null here. */
export const payloadResolvers = {
  AssignTermMarkPayload: {
    weightedAverage: (p: { weightedAverage?: string }) => p.weightedAverage || null,
  },
  ...admin.resolvers,
};

/** Each object type's fields and the named type of each, for callers that select all of them. */
const OBJECT_FIELDS = new Map(
  parse(`${typedCommandTypeDefs}\n${adminCommandTypeDefs}`).definitions.flatMap((d) =>
    d.kind === Kind.OBJECT_TYPE_DEFINITION
      ? [
          [
            d.name.value,
            (d.fields ?? []).map((f) => [f.name.value, namedType(f.type)] as const),
          ] as const,
        ]
      : [],
  ),
);

function namedType(t: TypeNode): string {
  return t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type);
}

/**
 * A selection of every field of an object type, nested objects' fields included (a field of a
 * type already being selected, a recursive message, is left out).
 */
function selectionOf(type: string, within: ReadonlySet<string> = new Set([type])): string {
  const fields = OBJECT_FIELDS.get(type) ?? [];
  return fields
    .flatMap(([name, of]) => {
      if (!OBJECT_FIELDS.has(of)) return [name];
      return within.has(of) ? [] : [`${name} { ${selectionOf(of, new Set([...within, of]))} }`];
    })
    .join(" ");
}

/**
 * The document of one command with `$c` (commandId) and `$i` (input) variables, selecting every
 * field of its payload (nested ones too): what tests and tools post for a command named at run
 * time.
 */
export function commandOperation(field: string): string {
  return `mutation M($c: ID!, $i: ${inputTypeOf(field)}!) { ${field}(commandId: $c, input: $i) { ${selectionOf(
    payloadTypeOf(field),
  )} } }`;
}
