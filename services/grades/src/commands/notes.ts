import type { NewEvent, Queryable } from "@otmetka/eventstore";
import { FACTS_SCHEMA, NOTES_LOCK } from "../projections/facts.js";

/** Free text about a pupil, kept in the notes table (erasable), never in an event. */
export interface Note {
  noteId: string;
  personId: string;
  text: string;
}

/** The notes that `events` name: a reason no event names (a first term mark's) is not kept. */
export function notesNamedBy(notes: readonly Note[], events: readonly NewEvent[]): Note[] {
  if (notes.length === 0) return [];
  const named = new Set(events.flatMap((e) => noteIdsOf(e.data)));
  return notes.filter((n) => named.has(n.noteId));
}

const noteIdsOf = (data: unknown): string[] => {
  const d = data as { noteId?: unknown; reasonNoteId?: unknown };
  return [d.noteId, d.reasonNoteId].filter((id): id is string => typeof id === "string");
};

/**
 * Writes notes in the transaction that appended the events naming them (one command's, or a
 * group commit's), after the append: none about an erased person. Two statements whatever
 * the count: the lock, then one insert.
 */
export async function writeNotes(db: Queryable, notes: readonly Note[]): Promise<void> {
  if (notes.length === 0) return;
  // Taken before the insert's snapshot: an erasure being handled commits first and is seen,
  // or waits and deletes these notes (facts.ts). No note is kept about an erased person.
  await db.query(`SELECT pg_advisory_xact_lock_shared(${NOTES_LOCK})`);
  await db.query(
    `INSERT INTO grades.notes (note_id, person_id, text)
     SELECT n, p, t FROM unnest($1::text[], $2::text[], $3::text[]) AS x(n, p, t)
      WHERE NOT EXISTS (SELECT 1 FROM ${FACTS_SCHEMA}.erased_persons e WHERE e.person_id = x.p)
     ON CONFLICT (note_id) DO NOTHING`,
    [notes.map((n) => n.noteId), notes.map((n) => n.personId), notes.map((n) => n.text)],
  );
}
