import type { EventMetadata, EventStore } from "@otmetka/eventstore";
import type { Clock } from "@otmetka/service-kit";
import type { MasterKeyring } from "../crypto/key-config.js";

/** What command and query code needs; built once in main.ts. */
export interface IdentityDeps {
  store: EventStore;
  clock: Clock;
  masterKeys: MasterKeyring;
  blindIndexKey: Buffer;
}

/** Who asks and why, for event metadata (ids only). */
export interface CallContext {
  metadata?: EventMetadata;
}
