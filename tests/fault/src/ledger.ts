// The counts of one fault run: what grades committed (its event log, the source of truth)
// against what reaching reporting's read models did, per pupil.
import { READ_ALL_FINAL_BELOW_SQL } from "@otmetka/eventstore";
import pg from "pg";

export interface Counts {
  /** MarkRecorded events in grades' log. */
  committed: number;
  /** Marks grades answered; each must be in the log. */
  acked: number;
  /** Answered marks missing from the log (must be 0). */
  ackedMissing: number;
  /** Committed marks in reporting's marks read model. */
  delivered: number;
  /** Committed marks whose event id is in reporting's inbox (applied once). */
  inInbox: number;
  /** Committed marks missing from the read model (must be 0). */
  lost: number;
  /** Marks counted more than once in reporting's per-class counters (must be 0). */
  duplicated: number;
  /** Committed marks missing from those counters (must be 0). */
  countersShort: number;
  /** Pupils whose read-model mark count differs from their committed count. */
  pupilsOff: number;
}

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** The live schema of reporting's projection (its name carries the projection version). */
async function reportingSchema(url: string): Promise<string> {
  const rows = await query<{ s: string }>(
    url,
    `SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'marks'`,
  );
  if (rows.length !== 1)
    throw new Error(`expected one reporting marks table, found ${rows.length}`);
  return (rows[0] as { s: string }).s;
}

export async function countMarks(
  urls: { grades: string; reporting: string },
  acked: ReadonlySet<string>,
): Promise<Counts> {
  const committed = await query<{
    mark_id: string;
    event_id: string;
    student: string;
    cg: string;
    subject: string;
  }>(
    urls.grades,
    `SELECT data->>'markId' AS mark_id, event_id::text AS event_id, data->>'studentId' AS student,
            data->'journal'->>'classGroupId' AS cg, data->'journal'->>'subjectId' AS subject
       FROM eventstore.events WHERE type LIKE '%MarkRecorded'`,
  );
  const s = await reportingSchema(urls.reporting);
  const delivered = await query<{ mark_id: string; student_id: string }>(
    urls.reporting,
    `SELECT mark_id, student_id FROM "${s}".marks`,
  );
  const inbox = await query<{ n: string }>(
    urls.reporting,
    `SELECT count(*) AS n FROM "${s}"._inbox WHERE event_id = ANY($1::text[])`,
    [committed.map((e) => e.event_id)],
  );
  // Marks by value 1..5 are elements 1-5 of the per-class performance counters (the entry
  // part, see reporting's counters-codec; one row holds both result bases): a mark applied
  // twice is counted twice there. One row per journal and term (term 0 is the whole year,
  // subject '*' all subjects: left out).
  const histogram = await query<{ cg: string; subject: string; n: string }>(
    urls.reporting,
    `SELECT scope_id AS cg, subject_id AS subject,
            (counters[1] + counters[2] + counters[3] + counters[4] + counters[5]) AS n
       FROM "${s}".perf
      WHERE level = 'CLASS_GROUP' AND term > 0 AND subject_id <> '*'`,
  );
  const inLog = new Set(committed.map((e) => e.mark_id));
  const inModel = new Set(delivered.map((m) => m.mark_id));
  const perPupil = (rows: { student: string }[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(r.student, (m.get(r.student) ?? 0) + 1);
    return m;
  };
  const committedByPupil = perPupil(committed);
  const deliveredByPupil = perPupil(delivered.map((d) => ({ student: d.student_id })));
  let pupilsOff = 0;
  for (const p of new Set([...committedByPupil.keys(), ...deliveredByPupil.keys()]))
    if (committedByPupil.get(p) !== deliveredByPupil.get(p)) pupilsOff++;
  const committedByJournal = new Map<string, number>();
  for (const e of committed) {
    const k = `${e.cg}|${e.subject}`;
    committedByJournal.set(k, (committedByJournal.get(k) ?? 0) + 1);
  }
  let duplicated = 0;
  let countersShort = 0;
  const counted = new Map(histogram.map((h) => [`${h.cg}|${h.subject}`, Number(h.n)]));
  for (const k of new Set([...counted.keys(), ...committedByJournal.keys()])) {
    const diff = (counted.get(k) ?? 0) - (committedByJournal.get(k) ?? 0);
    if (diff > 0) duplicated += diff;
    else countersShort -= diff;
  }
  return {
    committed: committed.length,
    acked: acked.size,
    ackedMissing: [...acked].filter((id) => !inLog.has(id)).length,
    delivered: committed.filter((e) => inModel.has(e.mark_id)).length,
    inInbox: Number(inbox[0]?.n ?? 0),
    lost: committed.filter((e) => !inModel.has(e.mark_id)).length,
    duplicated,
    countersShort,
    pupilsOff,
  };
}

/** Polls until reporting has every committed mark (or the timeout), then returns the counts. */
export async function settle(
  urls: { grades: string; reporting: string },
  acked: ReadonlySet<string>,
  timeoutMs = 120_000,
): Promise<Counts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await countMarks(urls, acked).catch(() => undefined);
    const done = c && c.lost === 0 && c.inInbox === c.committed && c.countersShort === 0;
    if (c && (done || Date.now() > deadline)) return c;
    if (!c && Date.now() > deadline) return countMarks(urls, acked);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** How many of `markIds` reporting's marks read model holds. */
export async function deliveredOf(reportingUrl: string, markIds: string[]): Promise<number> {
  const s = await reportingSchema(reportingUrl);
  const rows = await query<{ n: string }>(
    reportingUrl,
    `SELECT count(*) AS n FROM "${s}".marks WHERE mark_id = ANY($1::text[])`,
    [markIds],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Events committed in a service's log that its relay cannot publish yet: those of
 * transactions at or above the bound readAll reads below (the oldest transaction still
 * running in that database).
 */
export async function invisibleEvents(url: string): Promise<number> {
  const rows = await query<{ n: string }>(
    url,
    `SELECT count(*) AS n FROM eventstore.events
      WHERE transaction_id >= ${READ_ALL_FINAL_BELOW_SQL}`,
  );
  return Number(rows[0]?.n ?? 0);
}

export const formatCounts = (label: string, c: Counts, extra = "") =>
  `${label}: committed ${c.committed}, acked ${c.acked} (missing from log ${c.ackedMissing}), ` +
  `delivered ${c.delivered}, in inbox ${c.inInbox}, lost ${c.lost}, duplicated ${c.duplicated}, ` +
  `missing from counters ${c.countersShort}, pupils off ${c.pupilsOff}${extra ? `; ${extra}` : ""}`;
