import { getHeapStatistics } from "node:v8";
import { DEFAULT_REBUILD_MEMORY_MB } from "../config.js";
import { type HeldKind, type RebuildMemory, releaseRebuildMemory } from "./rebuild-memory.js";

/*
 * The rebuild mode's memory grows with the history (every lesson, mark, pupil result and
 * pupil-day, aggregate row...). A region's year would not fit in a heap, so a rebuild holds
 * it up to a budget: past it, at a batch's end, the memory is dropped and the rest of the
 * rebuild goes on the live way (reading the tables, closing days in SQL), which the tables
 * allow at any batch's end (each flush writes what its batch changed).
 */

/**
 * Heap an entry of each kind takes, measured on the bench's synthetic history (a rebuild
 * of 10,007 and 60,007 events, each kind dropped in turn, heap after gc; README "Rebuild
 * mode"), rounded up — except standingRows, memberships, termMarks and exemptions, which are
 * estimates by analogy (too few in that history to measure), and absenceLessons, which also
 * counts lessons without absences (an overestimate). Counting entries is exact and costs no
 * GC-dependent reading; the heap guard below catches what the weights miss.
 */
const BYTES: Record<HeldKind, number> = {
  marks: 470, // with its place in the pupil's list and its entry in the term's and year's (estimated: +50)
  lessons: 400, // with its roll once attendance is taken (estimated: +110, ~25 pupils) and its attendance records (+70 for one)
  results: 420, // with its pupil_results key
  standings: 260,
  attributions: 290,
  perfRows: 650,
  standingRows: 380,
  dailyRows: 1050,
  absenceLessons: 360, // with ~1 absence each
  pupilDays: 170,
  memberships: 150,
  termMarks: 200,
  exemptions: 250,
};

/** The memory's estimated heap, in bytes. */
export function estimatedBytes(m: RebuildMemory): number {
  let n = 0;
  for (const [kind, count] of Object.entries(m.held())) n += count * BYTES[kind as HeldKind];
  return n;
}

/** Past this share of the heap's limit a rebuild lets go whatever the estimate says. */
const HEAP_GUARD = 0.8;

/** Where the fallback is told (pino's `info` signature). */
export interface InfoLogger {
  info(fields: object, message: string): void;
}

const consoleLogger: InfoLogger = { info: (fields, message) => console.info(message, fields) };

/**
 * Checks a rebuild's memory at a batch's end (its flush done): over the budget (or the
 * heap near its limit), it is released for the rest of the rebuild, and that is logged once.
 */
export function rebuildBudget(o: { bytes?: number; logger?: InfoLogger }) {
  const budget = o.bytes ?? DEFAULT_REBUILD_MEMORY_MB * 2 ** 20;
  const logger = o.logger ?? consoleLogger;
  return (carry: object, m: RebuildMemory): void => {
    m.batches++;
    const estimate = estimatedBytes(m);
    const heap = getHeapStatistics();
    const heapNearLimit = heap.used_heap_size > HEAP_GUARD * heap.heap_size_limit;
    if (estimate <= budget && !heapNearLimit) return;
    releaseRebuildMemory(carry);
    const mb = (b: number) => Math.round(b / 2 ** 20);
    logger.info(
      {
        batches: m.batches,
        estimatedMb: mb(estimate),
        budgetMb: mb(budget),
        heapUsedMb: mb(heap.used_heap_size),
        heapLimitMb: mb(heap.heap_size_limit),
        held: m.held(),
      },
      heapNearLimit
        ? "rebuild: the heap is near its limit, the rest of the rebuild reads and writes the tables as live"
        : "rebuild: memory over REPORTING_REBUILD_MEMORY_MB, the rest of the rebuild reads and writes the tables as live",
    );
  };
}
