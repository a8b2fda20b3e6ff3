import { civilDate, DomainError, hasRole, requireRole } from "@otmetka/service-kit";
import { invalidInput, notReplicatedYet } from "../domain/errors.js";
import type { MarkCorrected, MarkRecorded, MarkRevoked } from "../domain/events.js";
import { eventName } from "../domain/events.js";
import { weightedAverage } from "../domain/marks.js";
import type { JournalKey } from "../projections/facts-queries.js";
import type { Call, GradesDeps } from "./deps.js";
import {
  checkSubgroup,
  type JournalInput,
  journalKey,
  journalStreamId,
} from "./journal-context.js";

/**
 * Staff of the school, officers above it, or the pupil themself may read a pupil's marks. The
 * journal's school is its class group's, so a subgroup journal's subgroup must be of it.
 */
async function checkReader(deps: GradesDeps, call: Call, k: JournalKey, studentId?: string) {
  const facts = await deps.facts.commandFacts({ journal: k, studentIds: [] });
  const { classGroup } = facts;
  if (!classGroup) throw notReplicatedYet("journal.class_group_id", "class group", k.classGroupId);
  if (studentId && hasRole(call.caller, "STUDENT") && call.caller.personId === studentId) return;
  requireRole(
    call.caller,
    ["TEACHER", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER", "PLATFORM_ADMIN", "SERVICE"],
    {
      schoolId: classGroup.schoolId,
      municipalityId: classGroup.municipalityId,
    },
  );
  checkSubgroup(k, facts);
}

/** Every change of one mark, oldest first, with its comment (gone after erasure). */
export async function markHistory(
  deps: GradesDeps,
  call: Call,
  req: { journal?: JournalInput; markId: string },
) {
  const k = journalKey(req.journal);
  if (req.markId.trim() === "") throw invalidInput("mark_id", "is required");
  await checkReader(deps, call, k);
  const events = await deps.store.readStream(journalStreamId(k));
  let recorded: MarkRecorded | undefined;
  const changes: {
    kind: string;
    value: string;
    reason: string;
    /** Where the reason is (events before reasons moved to notes hold it in `reason`). */
    reasonNoteId?: string | undefined;
    authorId: string;
    recordedAt: string;
  }[] = [];
  for (const e of events) {
    const d = e.data as { markId?: string };
    if (d.markId !== req.markId) continue;
    const at = e.recordedAt.toISOString();
    switch (eventName(e.type)) {
      case "MarkRecorded":
        recorded = e.data as MarkRecorded;
        changes.push({
          kind: "RECORDED",
          value: recorded.value,
          reason: "",
          authorId: recorded.authorId,
          recordedAt: at,
        });
        break;
      case "MarkCorrected": {
        const c = e.data as MarkCorrected;
        changes.push({
          kind: "CORRECTED",
          value: c.value,
          reason: c.reason,
          reasonNoteId: c.reasonNoteId,
          authorId: c.authorId,
          recordedAt: at,
        });
        break;
      }
      case "MarkRevoked": {
        const r = e.data as MarkRevoked;
        changes.push({
          kind: "REVOKED",
          value: "",
          reason: r.reason,
          reasonNoteId: r.reasonNoteId,
          authorId: r.authorId,
          recordedAt: at,
        });
        break;
      }
    }
  }
  if (!recorded)
    throw new DomainError("not_found", `mark_id: no mark ${req.markId} in this journal`, {
      field: "mark_id",
    });
  // The comment and the reasons, from the notes table (empty once the pupil is erased).
  const noteIds = [recorded.noteId, ...changes.map((c) => c.reasonNoteId)].filter(
    (id): id is string => !!id,
  );
  const notes = new Map<string, string>();
  if (noteIds.length > 0) {
    const { rows } = await deps.store.pool.query<{ note_id: string; text: string }>(
      "SELECT note_id, text FROM grades.notes WHERE note_id = ANY($1)",
      [noteIds],
    );
    for (const r of rows) notes.set(r.note_id, r.text);
  }
  const comment = recorded.noteId ? (notes.get(recorded.noteId) ?? "") : "";
  for (const c of changes) {
    if (c.reasonNoteId) c.reason = notes.get(c.reasonNoteId) ?? "";
    delete c.reasonNoteId;
  }
  return {
    markId: req.markId,
    studentId: recorded.studentId,
    lessonId: recorded.lessonId,
    workType: recorded.workType,
    weight: recorded.weight,
    changes,
    comment,
  };
}

/** A pupil's marks in a journal over a period, with the weighted average of the live ones. */
export async function studentMarks(
  deps: GradesDeps,
  call: Call,
  req: { journal?: JournalInput; studentId: string; fromDate: string; toDate: string },
) {
  const k = journalKey(req.journal);
  if (req.studentId.trim() === "") throw invalidInput("student_id", "is required");
  const from = req.fromDate ? civilDate("from_date", req.fromDate) : "0000-01-01";
  const to = req.toDate ? civilDate("to_date", req.toDate) : "9999-12-31";
  if (from > to) throw invalidInput("from_date", `must not be after to_date (${to})`);
  await checkReader(deps, call, k, req.studentId);
  const state = await deps.journals.read(journalStreamId(k));
  const marks = [...state.marks]
    .filter(([, m]) => m.studentId === req.studentId && m.lessonDate >= from && m.lessonDate <= to)
    .map(([markId, m]) => ({
      markId,
      lessonId: m.lessonId,
      lessonDate: m.lessonDate,
      term: m.term,
      value: m.value,
      workType: m.workType,
      weight: m.weight,
      revoked: m.revoked,
    }))
    .sort((a, b) => (a.lessonDate < b.lessonDate ? -1 : a.lessonDate > b.lessonDate ? 1 : 0));
  return { marks, weightedAverage: weightedAverage(marks.filter((m) => !m.revoked)) };
}
