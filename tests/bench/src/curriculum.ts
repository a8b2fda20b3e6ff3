/**
 * npm run bench:curriculum — generating a school year of lessons for a 30-class-group school
 * (about 30,000 LessonScheduled events through the service's GenerateLessons path: load the
 * calendar, timetable and lesson streams, decide, append with expected versions and the
 * command record in one transaction), against the event store's bulk append (COPY) of as
 * many events of the same shape, in the same database and run. Also times a regeneration
 * that finds nothing to do. Knobs: BENCH_RUNS (3), BENCH_CLASS_GROUPS (30), DATABASE_URL.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  generateLessons,
  openCurriculumDatabase,
  setUpBenchSchool,
} from "@otmetka/curriculum/bench";
import type { NewEvent, StreamAppend } from "@otmetka/eventstore";
import { BenchScratch, benchLog, knob, postgresVersion, report } from "./lib/bench-env.js";
import { baselineFigure, type Figure, figure, machine } from "./lib/results.js";
import { repeat } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const CLASS_GROUPS = knob("BENCH_CLASS_GROUPS", 30);

const log = benchLog("curriculum");

/** Bulk-append input of the same volume and shape as what a generation wrote. */
function bulkLike(events: { streamId: string; type: string; data: unknown }[]): StreamAppend[] {
  const byStream = new Map<string, NewEvent[]>();
  for (const e of events) {
    const streamId = `bulk-${e.streamId}`;
    byStream.set(streamId, [...(byStream.get(streamId) ?? []), { type: e.type, data: e.data }]);
  }
  return [...byStream].map(([streamId, evs]) => ({
    streamId,
    expected: "no_stream" as const,
    events: evs,
  }));
}

async function main() {
  const began = performance.now();
  const scratch = new BenchScratch();
  const db = await scratch.database("bench_curriculum");
  const store = await openCurriculumDatabase(db.url);
  const figures: Figure[] = [];
  try {
    const postgres = await postgresVersion(store.pool);
    const generated: number[] = [];
    const bulk: number[] = [];
    const regenerateMs: number[] = [];
    let lessons = 0;
    await repeat(RUNS, async (run) => {
      const school = await setUpBenchSchool(store, CLASS_GROUPS);
      const input = {
        schoolId: school.schoolId,
        startYear: 2026,
        from: "",
        to: "",
        classGroupIds: [],
      };
      const t0 = performance.now();
      const { result } = await generateLessons(school.deps, randomUUID(), input);
      const seconds = (performance.now() - t0) / 1000;
      lessons = result.scheduled;
      generated.push(result.scheduled / seconds);

      const t1 = performance.now();
      const again = await generateLessons(school.deps, randomUUID(), input);
      regenerateMs.push(performance.now() - t1);
      if (again.result.scheduled !== 0 || again.result.unscheduled !== 0)
        throw new Error("regeneration was not idempotent");

      // The baseline: the same events, bulk-appended (COPY, 5,000 per transaction).
      const { rows } = await store.pool.query<{ stream_id: string; type: string; data: unknown }>(
        "SELECT stream_id, type, data FROM eventstore.events WHERE type = 'curriculum.v1.LessonScheduled' AND data->>'schoolId' = $1",
        [school.schoolId],
      );
      const appends = bulkLike(
        rows.map((r) => ({ streamId: `${r.stream_id}-${run}`, type: r.type, data: r.data })),
      );
      const t2 = performance.now();
      const r = await store.appendBulk(appends, { chunkEvents: 5000 });
      bulk.push(r.events / ((performance.now() - t2) / 1000));
      log(
        `run ${run + 1}: ${result.scheduled} lessons for ${result.classGroups} class groups in ${seconds.toFixed(2)} s (${Math.round(generated.at(-1) ?? 0)}/s); bulk ${Math.round(bulk.at(-1) ?? 0)}/s; no-op regeneration ${Math.round(regenerateMs.at(-1) ?? 0)} ms`,
      );
      return 0;
    });
    figures.push(
      figure({
        id: "generate_school_year",
        unit: "events/s",
        runs: generated,
        baseline: { id: "append_bulk_same_events", runs: bulk },
        goal: 0.5,
        note: `${lessons} lessons, ${CLASS_GROUPS} class groups`,
      }),
      baselineFigure(
        "append_bulk_same_events",
        "events/s",
        bulk,
        "appendBulk, 5,000 events per transaction",
      ),
      figure({
        id: "regenerate_unchanged",
        unit: "ms",
        runs: regenerateMs,
        higherIsBetter: false,
        note: "no events to append",
      }),
    );
    report("curriculum", machine({ postgres }), figures, { began, runs: RUNS });
  } finally {
    await store.close();
    await scratch.cleanup();
  }
}

await main();
