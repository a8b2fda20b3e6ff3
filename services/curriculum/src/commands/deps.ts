import type { EventMetadata, EventStore } from "@otmetka/eventstore";
import type { Clock } from "@otmetka/service-kit";

/** What command and query code needs; built once in main.ts. */
export interface CurriculumDeps {
  store: EventStore;
  clock: Clock;
}

/** Who asks and why, for event metadata (ids only). */
export interface CallContext {
  metadata?: EventMetadata;
}
