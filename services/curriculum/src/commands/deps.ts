import type { EventMetadata, EventStore } from "@otmetka/eventstore";
import type { Clock } from "@otmetka/service-kit";
import type { IdentityFactsReader } from "../projections/identity-facts-queries.js";

/** What command and query code needs; built once in main.ts. */
export interface CurriculumDeps {
  store: EventStore;
  clock: Clock;
  /** The replica of identity facts (schools, staff, class groups, subgroups). */
  facts: IdentityFactsReader;
}

/** Who asks and why, for event metadata (ids only). */
export interface CallContext {
  metadata?: EventMetadata;
}
