import { DEFINITIONS, timelinessDefinition } from "./definitions.js";
import { type Figure, ratio } from "./figure.js";

/** Delays are kept per day up to this many days; longer ones share the last bucket. */
export const MAX_TRACKED_DELAY = 60;

/**
 * Journal fill and entry timeliness. Timeliness keeps a histogram of entry delays in days
 * (recorded date − lesson date, never below 0), so k can be chosen at query time and the
 * median read without the entries.
 */
export interface JournalCounters {
  /** Lessons scheduled by the timetable up to the date (cancelled ones are not). */
  lessonsScheduled: number;
  /** Of those, lessons with attendance taken AND a topic recorded. */
  lessonsFilled: number;
  /** Lessons conducted with a work-programme topic (programme delivery's numerator). */
  lessonsDelivered: number;
  /** delays[d] = entries recorded d days after their lesson; the last bucket is "or later". */
  delays: number[];
}

export const emptyJournal = (): JournalCounters => ({
  lessonsScheduled: 0,
  lessonsFilled: 0,
  lessonsDelivered: 0,
  delays: new Array<number>(MAX_TRACKED_DELAY + 1).fill(0),
});

export const delayBucket = (delayDays: number) =>
  Math.min(MAX_TRACKED_DELAY, Math.max(0, delayDays));

export function countDelay(c: JournalCounters, delayDays: number, sign: 1 | -1 = 1): void {
  const b = delayBucket(delayDays);
  c.delays[b] = (c.delays[b] ?? 0) + sign;
}

export function addJournal(into: JournalCounters, c: JournalCounters): JournalCounters {
  into.lessonsScheduled += c.lessonsScheduled;
  into.lessonsFilled += c.lessonsFilled;
  into.lessonsDelivered += c.lessonsDelivered;
  for (let i = 0; i <= MAX_TRACKED_DELAY; i++)
    into.delays[i] = (into.delays[i] ?? 0) + (c.delays[i] ?? 0);
  return into;
}

/** The median of a day histogram; for an even count, the mean of the two middle delays. */
export function medianDelay(delays: readonly number[]): number | null {
  const total = delays.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const at = (rank: number) => {
    let seen = 0;
    for (let d = 0; d < delays.length; d++) {
      seen += delays[d] ?? 0;
      if (seen > rank) return d;
    }
    return delays.length - 1;
  };
  return total % 2 === 1 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}

export interface JournalFigures {
  readonly fillRate: Figure;
  readonly timeliness: Figure;
  readonly medianDelayDays: { readonly value: number | null; readonly definition: string };
}

export function journalFigures(c: JournalCounters, timelinessDays: number): JournalFigures {
  let onTime = 0;
  let total = 0;
  for (let d = 0; d < c.delays.length; d++) {
    total += c.delays[d] ?? 0;
    if (d <= timelinessDays) onTime += c.delays[d] ?? 0;
  }
  return {
    fillRate: ratio(c.lessonsFilled, c.lessonsScheduled, DEFINITIONS.fillRate),
    timeliness: ratio(onTime, total, timelinessDefinition(timelinessDays)),
    medianDelayDays: { value: medianDelay(c.delays), definition: DEFINITIONS.medianDelay },
  };
}
