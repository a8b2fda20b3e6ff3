import type { EventStore } from "@otmetka/eventstore";
import type { Caller, CallMetadata, Clock } from "@otmetka/service-kit";
import type { FactsReader } from "../projections/facts-queries.js";
import type { JournalStore } from "./journal-store.js";

/** What command and query code needs; built once in main.ts. */
export interface GradesDeps {
  store: EventStore;
  clock: Clock;
  facts: FactsReader;
  journals: JournalStore;
}

/** A verified call: who asks, and the event metadata of their call. */
export interface Call {
  caller: Caller;
  metadata: CallMetadata;
}
