import { DEFINITIONS } from "./definitions.js";
import { type Figure, ratio } from "./figure.js";

/**
 * Programme delivery per subject and class group. A work programme lists ordered planned
 * lessons without dates; the n-th lesson scheduled by the timetable is where the programme
 * plans its n-th hour, so lessons planned to a date = min(programme hours, lessons scheduled
 * up to that date). Delivered = lessons conducted with a work-programme topic.
 */
export interface ProgrammeCounters {
  programmeHours: number;
  lessonsScheduledToDate: number;
  conductedWithTopic: number;
}

export const plannedToDate = (c: ProgrammeCounters) =>
  Math.min(c.programmeHours, c.lessonsScheduledToDate);

/** Sums per class group first: the min() is taken per programme, never over a sum. */
export function programmeDelivery(rows: readonly ProgrammeCounters[]): Figure {
  let planned = 0;
  let delivered = 0;
  for (const r of rows) {
    planned += plannedToDate(r);
    delivered += r.conductedWithTopic;
  }
  return ratio(delivered, planned, DEFINITIONS.programmeDelivery);
}
