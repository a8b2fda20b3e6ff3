import type { PupilPerformanceData } from "../contract/schemas.js";
import type { PublishablePupil } from "./snapshots.js";

/**
 * Where the debouncer gets performance snapshots. It throws when the source is unreachable
 * (the whole batch rolls back and is retried: nothing stale or partial goes out); a pupil
 * missing from the answer is deferred and asked again later. `asOf` is stamped on every
 * snapshot: the time it is taken (reporting's answer carries no event time to use instead).
 */
export type PerformanceSource = (
  pupils: PublishablePupil[],
  asOf: Date,
) => Promise<Map<string, PupilPerformanceData>>;
