import {
  addToStanding,
  classify,
  countStanding,
  emptyStanding,
  type PupilStanding,
} from "../domain/metrics/all-subjects.js";
import type { ResultBasis } from "../domain/metrics/definitions.js";
import { countResult } from "../domain/metrics/performance.js";
import {
  type PupilResult,
  type PupilSubjectFacts,
  pupilResult,
} from "../domain/metrics/pupil-result.js";
import type { Entry, EntryValue } from "../domain/metrics/values.js";
import { attributeCached } from "./attribution.js";
import type { Deltas, Scope, Touched } from "./deltas.js";
import type { Q } from "./query.js";
import { termMarkKey } from "./rebuild-memory.js";

const BASES: ResultBasis[] = ["CURRENT", "PERIOD_MARKS"];
const basisColumn = (b: ResultBasis) => (b === "CURRENT" ? "current" : "period");

export const toEntryValue = (v: string): EntryValue =>
  v === "PASS" || v === "FAIL" || v === "NOT_ATTESTED" ? v : (Number(v) as EntryValue);

export interface Results {
  scope: Scope | null;
  current: PupilResult;
  period: PupilResult;
}

export interface Standing {
  scope: Scope | null;
  current: PupilStanding;
  period: PupilStanding;
}

interface Pair {
  studentId: string;
  subjectId: string;
  startYear: number;
  term: number;
  /** pupilKey and pairKey, made once a recompute. */
  pupil: string;
  key: string;
}

const pupilKey = (p: { studentId: string; startYear: number; term: number }) =>
  `${p.studentId}|${p.startYear}|${p.term}`;
const columns = (pairs: readonly Pair[]) => [
  pairs.map((p) => p.studentId),
  pairs.map((p) => p.subjectId),
  pairs.map((p) => p.startYear),
  pairs.map((p) => p.term),
];
const KEYS =
  "unnest($1::text[], $2::text[], $3::int[], $4::int[]) WITH ORDINALITY AS k(student_id, subject_id, start_year, term, i)";

const sameScopes = (a: Scope | null, b: Scope | null) =>
  a === b ||
  (a !== null &&
    b !== null &&
    a.classGroupId === b.classGroupId &&
    a.schoolId === b.schoolId &&
    a.municipalityId === b.municipalityId);

/** Same result (results are small tagged records; stored ones come back from JSON). */
const sameResults = (a: PupilResult, b: PupilResult) =>
  a.kind === b.kind &&
  (a as { mark?: number }).mark === (b as { mark?: number }).mark &&
  (a as { passFail?: true }).passFail === (b as { passFail?: true }).passFail;

/** The pupils' new rows, written with the aggregates' deltas in one statement. */
export interface PupilRows {
  resultRows: unknown[][];
  standingRows: unknown[][];
}

/**
 * Pupils' rows recomputed by this batch and not written yet, by key (the latest wins). A day
 * close recomputes the pupils the day touched but leaves their rows here: only the
 * aggregates are snapshotted, and a pupil touched on many days of a batch (a rebuild's
 * batch spans weeks) is written once, by the batch's flush. Later recomputes of the batch
 * take their previous results from here instead of the table.
 */
interface UnwrittenPupils {
  // Rows are built (JSON and all) only when taken: a pupil recomputed at every day close of
  // a rebuild's batch is written once.
  results: Map<string, { pair: Pair; value: Results }>;
  standings: Map<string, { pupil: Touched; value: Standing }>;
}
const unwritten = new WeakMap<Deltas, UnwrittenPupils>();

function unwrittenOf(d: Deltas): UnwrittenPupils {
  let u = unwritten.get(d);
  if (!u) {
    u = { results: new Map(), standings: new Map() };
    unwritten.set(d, u);
  }
  return u;
}

/** Whether the batch holds pupils' rows not written yet (see `takePupilRows`). */
export const hasUnwrittenPupils = (d: Deltas): boolean => {
  const u = unwritten.get(d);
  return u !== undefined && u.results.size + u.standings.size > 0;
};

/** The batch's unwritten pupils' rows, handed over for writing (and forgotten here). */
export function takePupilRows(d: Deltas): PupilRows {
  const u = unwritten.get(d);
  if (!u) return { resultRows: [], standingRows: [] };
  unwritten.delete(d);
  return {
    resultRows: [...u.results.values()].map(({ pair: p, value }) => [
      p.studentId,
      p.subjectId,
      p.startYear,
      p.term,
      ...jsonColumns(value),
    ]),
    standingRows: [...u.standings.values()].map(({ pupil: t, value }) => [
      t.studentId,
      t.startYear,
      t.term,
      ...jsonColumns(value),
    ]),
  };
}

/** The jsonb columns both tables share: scope, current, period. */
const jsonColumns = (v: Results | Standing) => [
  JSON.stringify(v.scope),
  JSON.stringify(v.current),
  JSON.stringify(v.period),
];

interface FactsRow {
  i: string;
  /** Null in a rebuild: it holds the marks (and the pupils' previous rows). */
  entries: [string, number][] | null;
  period_mark: string | null;
  grading: string | null;
  exemptions: [string, string][];
  old: Results | null;
  standing: Standing | null;
}

/**
 * Each touched pupil-subject-period's facts and its previous results, in one query for the
 * whole batch (one round trip, whatever the batch size).
 */
async function loadFacts(
  q: Q,
  d: Deltas,
  pairs: readonly Pair[],
  exemptDates: (p: Pair) => [string | null, string | null],
): Promise<{
  facts: PupilSubjectFacts[];
  olds: (Results | null)[];
  standings: (Standing | null)[];
}> {
  // A rebuild holds all these facts (rebuild-memory.ts): nothing is read.
  const memory = d.rebuild;
  const rows: FactsRow[] = memory
    ? pairs.map((p, i) => ({
        i: String(i + 1),
        entries: null,
        period_mark:
          memory.termMarks.get(termMarkKey(p.studentId, p.subjectId, p.startYear, p.term)) ?? null,
        grading: memory.gradings.get(p.subjectId) ?? null,
        exemptions: memory.exemptionsOf(p.studentId, p.subjectId, p.startYear),
        old: null,
        standing: null,
      }))
    : await q<FactsRow>(
        `SELECT k.i,
       (SELECT coalesce(json_agg(json_build_array(m.value, m.weight) ORDER BY m.seq), '[]'::json) FROM $S.marks m
         WHERE m.student_id = k.student_id AND m.subject_id = k.subject_id AND m.start_year = k.start_year
           AND (k.term = 0 OR m.term = k.term) AND NOT m.revoked) AS entries,
       (SELECT t.value FROM $S.term_marks t WHERE t.student_id = k.student_id AND t.subject_id = k.subject_id
           AND t.start_year = k.start_year AND t.term = k.term) AS period_mark,
       (SELECT s.grading FROM $S.subjects s WHERE s.subject_id = k.subject_id) AS grading,
       (SELECT coalesce(json_agg(json_build_array(e.first_day::text, e.last_day::text)), '[]'::json)
          FROM $S.exemptions e WHERE e.student_id = k.student_id AND e.subject_id = k.subject_id
           AND e.start_year = k.start_year) AS exemptions,
       (SELECT json_build_object('scope', r.scope, 'current', r.current, 'period', r.period) FROM $S.pupil_results r
         WHERE r.student_id = k.student_id AND r.subject_id = k.subject_id AND r.start_year = k.start_year
           AND r.term = k.term) AS old,
       (SELECT json_build_object('scope', s.scope, 'current', s.current, 'period', s.period) FROM $S.pupil_standing s
         WHERE s.student_id = k.student_id AND s.start_year = k.start_year AND s.term = k.term) AS standing
     FROM ${KEYS}`,
        columns(pairs),
      );
  const byIndex = new Map(rows.map((r) => [Number(r.i) - 1, r]));
  // The batch's new marks are not in the table yet (writeAll inserts them): they follow the
  // stored ones, in arrival order, as their seq will.
  // Only the touched pupils' (a rebuild holds a whole batch of marks across its days).
  const fresh = new Map<string, { value: string; weight: number; term: number }[]>(
    memory ? [] : pairs.map((p) => [`${p.studentId}|${p.subjectId}|${p.startYear}`, []]),
  );
  for (const m of memory ? [] : d.newMarks.values()) {
    if (m.revoked) continue;
    fresh.get(`${m.student_id}|${m.subject_id}|${m.start_year}`)?.push(m);
  }
  const olds: (Results | null)[] = [];
  const standings: (Standing | null)[] = [];
  const held = unwritten.get(d);
  const facts = pairs.map((p, i): PupilSubjectFacts => {
    const r = byIndex.get(i);
    olds.push(
      held?.results.get(p.key)?.value ?? (memory ? memory.results.get(p.key) : r?.old) ?? null,
    );
    standings.push(
      held?.standings.get(p.pupil)?.value ??
        (memory ? memory.standings.get(p.pupil) : r?.standing) ??
        null,
    );
    const list = memory
      ? memory.entriesOf(p.studentId, p.subjectId, p.startYear, p.term)
      : liveEntries(r?.entries ?? [], fresh.get(`${p.studentId}|${p.subjectId}|${p.startYear}`), p);
    const g = r?.grading ?? undefined;
    const passFail =
      g === "GRADING_PASS_FAIL" ||
      (g === undefined && list.some((e) => e.value === "PASS" || e.value === "FAIL"));
    const [first, last] = exemptDates(p);
    const exempt = (r?.exemptions ?? []).some(
      ([from, to]) => first === null || last === null || (from <= last && to >= first),
    );
    return {
      scale: passFail ? "PASS_FAIL" : "FIVE_POINT",
      exempt,
      periodMark: r?.period_mark == null ? undefined : toEntryValue(r.period_mark),
      entries: list,
    };
  });
  return { facts, olds, standings };
}

/** A live batch's entries of a pair: the stored ones, then the batch's new marks of its period. */
function liveEntries(
  stored: [string, number][],
  fresh: readonly { value: string; weight: number; term: number }[] | undefined,
  p: Pair,
): Entry[] {
  const list: Entry[] = stored.map(([v, w]) => ({ value: toEntryValue(v), weight: w }));
  for (const m of fresh ?? [])
    if (p.term === 0 || m.term === p.term)
      list.push({ value: toEntryValue(m.value), weight: m.weight });
  return list;
}

/**
 * Recomputes the results of the pupils a batch touched (from their own marks, term marks and
 * exemptions, through the formula module) and turns each change into deltas: the pupil
 * leaves its old bucket (and class group) and enters the new one. A fixed number of queries
 * per batch, so a growing batch under load costs less per event.
 */
export async function recomputePupils(q: Q, d: Deltas): Promise<void> {
  const touched = [...d.touched.values()];
  if (touched.length === 0) return;
  const attributions = await attributeCached(
    q,
    touched.map((t) => ({ ...t, fallback: t.subjects.values().next().value as Scope })),
    d.rebuild?.attributions,
  );
  const attributionOf = new Map(touched.map((t, i) => [pupilKey(t), attributions[i]]));
  const pairs: Pair[] = touched.flatMap((t) => {
    const pupil = pupilKey(t);
    return [...t.subjects.keys()].map((subjectId) => ({
      studentId: t.studentId,
      subjectId,
      startYear: t.startYear,
      term: t.term,
      pupil,
      key: `${pupil}|${subjectId}`,
    }));
  });
  // The pupils' standings come with their subjects' facts (same round trip).
  const { facts, olds, standings } = await loadFacts(q, d, pairs, (p) => {
    const a = attributionOf.get(p.pupil);
    return [a?.exemptFirst ?? null, a?.exemptLast ?? null];
  });
  const standingOf = new Map<string, Standing>();
  pairs.forEach((p, i) => {
    const s = standings[i];
    if (s) standingOf.set(p.pupil, s);
  });
  const newStanding = new Map<string, Standing>();
  const rows = unwrittenOf(d);
  pairs.forEach((p, i) => {
    const a = attributionOf.get(p.pupil);
    const newScope = a?.onRoll ? a.scope : null;
    let standing = newStanding.get(p.pupil);
    if (!standing) {
      const old = standingOf.get(p.pupil);
      standing = {
        scope: newScope,
        current: old ? { ...old.current } : emptyStanding(),
        period: old ? { ...old.period } : emptyStanding(),
      };
      newStanding.set(p.pupil, standing);
    }
    const f = facts[i] as PupilSubjectFacts;
    const next: Results = {
      scope: newScope,
      current: pupilResult(f, "CURRENT"),
      period: pupilResult(f, "PERIOD_MARKS"),
    };
    const prev = olds[i];
    const sameScope = sameScopes(prev?.scope ?? null, newScope);
    for (const basis of BASES) {
      const col = basisColumn(basis);
      // Unchanged where it counts: leaving and re-entering the bucket would add nothing.
      if (sameScope && prev && sameResults(prev[col], next[col])) continue;
      if (prev?.scope) {
        const r = prev[col];
        d.perfAt(prev.scope, p.startYear, p.term, p.subjectId, basis, (c) => countResult(c, r, -1));
        addToStanding(standing[col], r, -1);
      }
      if (newScope) {
        const r = next[col];
        d.perfAt(newScope, p.startYear, p.term, p.subjectId, basis, (c) => countResult(c, r, 1));
        addToStanding(standing[col], r, 1);
      }
    }
    const memory = d.rebuild;
    if (memory) {
      if (!memory.results.has(p.key))
        memory.noteResult(p.studentId, p.startYear, p.subjectId, p.term);
      memory.results.set(p.key, next);
    }
    rows.results.set(p.key, { pair: p, value: next });
  });
  for (const t of touched) {
    const k = pupilKey(t);
    const old = standingOf.get(k);
    const now = newStanding.get(k);
    if (!now) continue;
    const sameScope = sameScopes(old?.scope ?? null, now.scope);
    for (const basis of BASES) {
      const col = basisColumn(basis);
      if (sameScope && old && classify(old[col]) === classify(now[col])) continue;
      if (old?.scope) {
        const cls = classify(old[col]);
        d.standingAt(old.scope, t.startYear, t.term, basis, (c) => countStanding(c, cls, -1));
      }
      if (now.scope) {
        const cls = classify(now[col]);
        d.standingAt(now.scope, t.startYear, t.term, basis, (c) => countStanding(c, cls, 1));
      }
    }
    d.rebuild?.standings.set(k, now);
    rows.standings.set(k, { pupil: t, value: now });
    d.changedPupils.add(t.studentId);
  }
}
