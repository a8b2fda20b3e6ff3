import { type CivilDate, civilDate } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";
import { decideJournal, MAX_REASON, termMarkRollDay, termMarksOf } from "../domain/journal.js";
import {
  type Actor,
  type JournalCommand,
  type MarksField,
  markField,
} from "../domain/journal-commands.js";
import { checkWorkType, resolveWeight, weightedAverage } from "../domain/marks.js";
import type { JournalKey } from "../projections/facts-queries.js";
import type { Call, GradesDeps } from "./deps.js";
import { derivedId } from "./derived-id.js";
import {
  type JournalContext,
  type JournalInput,
  journalContext,
  journalKey,
} from "./journal-context.js";
import type { Note } from "./notes.js";

type Replayable<T> = T & { replayed: boolean };

interface MarkInput {
  studentId: string;
  value: string;
  workType: string;
  comment: string;
}

const MAX_COMMENT = 2000;

/**
 * The most marks or attendance entries one command takes: a lesson's column is a class group
 * (at most ~40 pupils, a few marks each). Without it one request could append tens of
 * thousands of events and read as many pupils' enrollments in one statement.
 */
const MAX_ENTRIES = 200;

/**
 * A note's id: derived from the command id and from what the note holds (pupil and text), so
 * a retry with the same payload names the same note, and a command id that was refused and
 * then ran with other content names another (notes were once written before the decision).
 */
const noteIdOf = (commandId: string, slot: string, personId: string, text: string) =>
  derivedId(commandId, `note:${slot}\u0000${personId}\u0000${text}`);

/**
 * A reason about pupil `personId` as a note (reasons are free text about the pupil: a medical
 * exemption, why a mark changed), written only with the events; none on a replay, without a
 * pupil or without a reason the decision could accept (it refuses those before any event).
 */
function reasonNote(ctx: JournalContext, personId: string | undefined, reason: string): Note[] {
  const text = reason.trim();
  if (ctx.replay || !personId || text === "" || text.length > MAX_REASON) return [];
  return [{ noteId: noteIdOf(ctx.commandId, "reason", personId, text), personId, text }];
}

/** What every journal command carries from its context. */
const commandBase = (c: JournalContext) => ({ journal: c.journal, actor: c.actor, today: c.today });

/** Decides on the journal's state and appends, under the command id and payload the context checked. */
async function decideAndAppend<R>(
  deps: GradesDeps,
  call: Call,
  ctx: JournalContext,
  command: (ctx: JournalContext) => JournalCommand,
  result: (events: { data: unknown }[], state: Parameters<typeof termMarksOf>[0]) => R,
  notes: Note[] = [],
): Promise<Replayable<R>> {
  if (ctx.replay) return { ...(ctx.replay.result as R), replayed: true };
  const c = command(ctx);
  const { commandId, payload } = ctx;
  const out = await deps.journals.run({
    streamId: ctx.streamId,
    commandId,
    payload,
    decide: (state) => decideJournal(c, state),
    result: (state, events) => result(events, state),
    metadata: { ...call.metadata, commandId },
    ...(notes.length > 0 ? { notes } : {}),
  });
  return { ...out.result, replayed: out.replayed };
}

/**
 * RecordMark and RecordMarks (a whole column, atomic): one lesson, one or more pupils. `as` is
 * the request's field the marks came in, so errors name it (not part of the payload a retry
 * is compared with).
 */
export async function recordMarks(
  deps: GradesDeps,
  call: Call,
  req: { commandId: string; journal?: JournalInput; lessonId: string; marks: MarkInput[] },
  as: MarksField = "marks",
): Promise<Replayable<{ markIds: string[]; weights: number[] }>> {
  const journal = journalKey(req.journal);
  if (req.lessonId.trim() === "") throw invalidInput("lesson_id", "is required");
  if (req.marks.length === 0)
    throw invalidInput(as, as === "mark" ? "is required" : "must hold at least one mark");
  if (req.marks.length > MAX_ENTRIES)
    throw invalidInput(as, `must hold at most ${MAX_ENTRIES} marks (one lesson's column)`);
  const marks = req.marks.map((m, i) => {
    const field = markField(as, i);
    if (m.studentId.trim() === "") throw invalidInput(`${field}.student_id`, "is required");
    if (m.comment.length > MAX_COMMENT)
      throw invalidInput(`${field}.comment`, `must be at most ${MAX_COMMENT} characters`);
    return {
      studentId: m.studentId,
      value: m.value,
      workType: checkWorkType(`${field}.work_type`, m.workType || "ORAL"),
      comment: m.comment,
      field,
    };
  });
  const ctx = await journalContext(deps, call, {
    journal,
    lessonId: req.lessonId,
    studentIds: [...new Set(marks.map((m) => m.studentId))],
    commandId: req.commandId,
    payload: req,
  });
  const prepared = marks.map((m, i) => {
    const markId = derivedId(req.commandId, `mark:${i}`);
    return {
      markId,
      studentId: m.studentId,
      value: m.value,
      workType: m.workType,
      weight: ctx.replay ? 0 : resolveWeight(`${m.field}.work_type`, m.workType, ctx.weights),
      noteId:
        m.comment.trim() === "" ? "" : noteIdOf(req.commandId, `${i}`, m.studentId, m.comment),
      enrollment: ctx.replay
        ? ("enrolled" as const)
        : ctx.enrollment(m.studentId, `${m.field}.student_id`),
      comment: m.comment,
    };
  });
  const notes = ctx.replay
    ? []
    : prepared
        .filter((m) => m.noteId !== "")
        .map((m) => ({ noteId: m.noteId, personId: m.studentId, text: m.comment }));
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind: "RecordMarks",
      ...commandBase(c),
      lesson: c.lesson!,
      marks: prepared,
      field: as,
    }),
    () => ({ markIds: prepared.map((m) => m.markId), weights: prepared.map((m) => m.weight) }),
    notes,
  );
}

/**
 * Who changes a mark as RecordMark would have judged them on its lesson: the lesson's own
 * teacher and its conductor teach it on its date as the replica knows it now (as for an
 * excusal, so after a move they count on the new date only). The lesson is read only for a
 * caller neither a role nor an assignment or substitution on the mark's date lets in already,
 * so the usual correction costs no more.
 */
async function markActor(
  deps: GradesDeps,
  journal: JournalKey,
  ctx: JournalContext,
  mark: { lessonId: string; lessonDate: CivilDate },
): Promise<Actor> {
  if (ctx.actor.admin || ctx.actor.assignedOn(mark.lessonDate)) return ctx.actor;
  const lesson = await deps.facts.lessonOf(journal, mark.lessonId);
  return lesson ? ctx.actorWith(lesson) : ctx.actor;
}

export async function correctOrRevokeMark(
  deps: GradesDeps,
  call: Call,
  req: {
    commandId: string;
    journal?: JournalInput;
    markId: string;
    value?: string;
    reason: string;
  },
  kind: "CorrectMark" | "RevokeMark",
): Promise<Replayable<object>> {
  const journal = journalKey(req.journal);
  if (req.markId.trim() === "") throw invalidInput("mark_id", "is required");
  const ctx = await journalContext(deps, call, {
    journal,
    studentIds: [],
    commandId: req.commandId,
    payload: { kind, req },
  });
  // The mark's pupil and lesson (a mark never changes either): the reason's note is the pupil's.
  const mark = ctx.replay
    ? undefined
    : (await deps.journals.read(ctx.streamId)).marks.get(req.markId);
  const notes = reasonNote(ctx, mark?.studentId, req.reason);
  const actor = mark ? await markActor(deps, journal, ctx, mark) : ctx.actor;
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind,
      ...commandBase(c),
      actor,
      markId: req.markId,
      value: req.value ?? "",
      reason: req.reason,
      reasonNoteId: notes[0]?.noteId ?? "",
    }),
    () => ({}),
    notes,
  );
}

export async function grantExemption(
  deps: GradesDeps,
  call: Call,
  req: {
    commandId: string;
    journal?: JournalInput;
    studentId: string;
    firstDay: string;
    lastDay: string;
    reason: string;
  },
): Promise<Replayable<{ exemptionId: string }>> {
  const journal = journalKey(req.journal);
  if (req.studentId.trim() === "") throw invalidInput("student_id", "is required");
  const firstDay = civilDate("first_day", req.firstDay);
  const lastDay = civilDate("last_day", req.lastDay);
  const ctx = await journalContext(deps, call, {
    journal,
    studentIds: [req.studentId],
    date: firstDay,
    commandId: req.commandId,
    payload: req,
  });
  const exemptionId = derivedId(req.commandId, "exemption");
  const notes = reasonNote(ctx, req.studentId, req.reason);
  // The school year's days and which days a closed term holds (the state knows only its
  // number), and whether the pupil stays in the journal after first_day (the context read
  // enrollment on that day only).
  const [{ terms, year }, notEnrolledFrom] = ctx.replay
    ? [{ terms: [], year: null }, null]
    : await Promise.all([
        deps.facts.calendar(journal.classGroupId, journal.startYear),
        deps.facts.notEnrolledFrom(journal, req.studentId, firstDay, lastDay),
      ]);
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind: "GrantExemption",
      ...commandBase(c),
      exemptionId,
      studentId: req.studentId,
      firstDay,
      lastDay,
      reason: req.reason,
      reasonNoteId: notes[0]?.noteId ?? "",
      enrollment: c.enrollment(req.studentId, "student_id"),
      notEnrolledFrom,
      terms,
      year,
    }),
    () => ({ exemptionId }),
    notes,
  );
}

export async function recordAttendance(
  deps: GradesDeps,
  call: Call,
  req: {
    commandId: string;
    journal?: JournalInput;
    lessonId: string;
    absences: { studentId: string; reason: string; lateMinutes: number }[];
  },
): Promise<Replayable<object>> {
  const journal = journalKey(req.journal);
  if (req.lessonId.trim() === "") throw invalidInput("lesson_id", "is required");
  if (req.absences.length > MAX_ENTRIES)
    throw invalidInput(
      "absences",
      `must hold at most ${MAX_ENTRIES} entries (one lesson's pupils)`,
    );
  req.absences.forEach((a, i) => {
    if (a.studentId.trim() === "") throw invalidInput(`absences[${i}].student_id`, "is required");
  });
  const ctx = await journalContext(deps, call, {
    journal,
    lessonId: req.lessonId,
    studentIds: [...new Set(req.absences.map((a) => a.studentId))],
    commandId: req.commandId,
    payload: req,
  });
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind: "RecordAttendance",
      ...commandBase(c),
      lesson: c.lesson!,
      entries: req.absences.map((a, i) => ({
        ...a,
        enrollment: c.enrollment(a.studentId, `absences[${i}].student_id`),
      })),
    }),
    () => ({}),
  );
}

export async function excuseAbsence(
  deps: GradesDeps,
  call: Call,
  req: {
    commandId: string;
    journal?: JournalInput;
    lessonId: string;
    studentId: string;
    note: string;
  },
): Promise<Replayable<object>> {
  const journal = journalKey(req.journal);
  if (req.lessonId.trim() === "") throw invalidInput("lesson_id", "is required");
  if (req.studentId.trim() === "") throw invalidInput("student_id", "is required");
  if (req.note.length > MAX_COMMENT)
    throw invalidInput("note", `must be at most ${MAX_COMMENT} characters`);
  // The lesson from the replica: its date and teacher decide who may excuse (UNAVAILABLE
  // while the replica has not seen it, as for attendance).
  const ctx = await journalContext(deps, call, {
    journal,
    lessonId: req.lessonId,
    studentIds: [],
    commandId: req.commandId,
    payload: req,
  });
  const noteId = req.note.trim() === "" ? "" : noteIdOf(req.commandId, "", req.studentId, req.note);
  const notes = ctx.replay || !noteId ? [] : [{ noteId, personId: req.studentId, text: req.note }];
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind: "ExcuseAbsence",
      ...commandBase(c),
      lesson: c.lesson!,
      studentId: req.studentId,
      noteId,
    }),
    () => ({}),
    notes,
  );
}

export async function setTermMark(
  deps: GradesDeps,
  call: Call,
  req: {
    commandId: string;
    journal?: JournalInput;
    studentId: string;
    term: number;
    value: string;
    reason: string;
  },
): Promise<Replayable<{ corrected: boolean; weightedAverage: string }>> {
  const journal = journalKey(req.journal);
  if (req.studentId.trim() === "") throw invalidInput("student_id", "is required");
  // Which terms the journal has (a term mark is for one of them), read beside the context.
  const [ctx, { terms }] = await Promise.all([
    journalContext(deps, call, {
      journal,
      studentIds: [req.studentId],
      commandId: req.commandId,
      payload: req,
    }),
    deps.facts.calendar(journal.classGroupId, journal.startYear),
  ]);
  // A correction's reason. A first term mark takes none: one given anyway is named by no
  // event, so it is not stored.
  const notes = reasonNote(ctx, req.studentId, req.reason);
  // The pupil must be on the roll at the end of the term (or today, while it runs), and not
  // in a subgroup of the subject then; the context read their enrollment on any day of the
  // year, which is all there is to go on while the term's dates are unknown.
  const rollDay = ctx.replay ? null : termMarkRollDay(req.term, terms, ctx.today);
  const roll =
    rollDay === null ? undefined : await deps.facts.termMarkRoll(journal, req.studentId, rollDay);
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind: "SetTermMark",
      ...commandBase(c),
      studentId: req.studentId,
      term: req.term,
      value: req.value,
      reason: req.reason,
      reasonNoteId: notes[0]?.noteId ?? "",
      enrollment: roll?.enrollment ?? c.enrollment(req.studentId, "student_id"),
      inSubgroup: roll?.inSubgroup ?? null,
      terms,
    }),
    (events, state) => ({
      corrected:
        (events[0] as { type?: string } | undefined)?.type === "grades.v1.TermMarkCorrected",
      weightedAverage: weightedAverage(termMarksOf(state, req.studentId, req.term)),
    }),
    notes,
  );
}

export async function closeOrReopenTerm(
  deps: GradesDeps,
  call: Call,
  req: { commandId: string; journal?: JournalInput; term: number; reason: string },
  kind: "CloseTerm" | "ReopenTerm",
): Promise<Replayable<object>> {
  const journal = journalKey(req.journal);
  const ctx = await journalContext(deps, call, {
    journal,
    studentIds: [],
    commandId: req.commandId,
    payload: { kind, req },
  });
  const { terms } = ctx.replay
    ? { terms: [] }
    : await deps.facts.calendar(journal.classGroupId, journal.startYear);
  return decideAndAppend(
    deps,
    call,
    ctx,
    (c) => ({
      kind,
      ...commandBase(c),
      term: req.term,
      reason: req.reason,
      terms,
    }),
    () => ({}),
  );
}
