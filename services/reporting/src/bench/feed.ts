import {
  type FeedEvent as ContextFeedEvent,
  createEventFeed,
  publishFeedEvents,
} from "@otmetka/messaging";
import * as C from "@otmetka/proto/curriculum/events/v1/events";
import * as G from "@otmetka/proto/grades/events/v1/events";
import * as I from "@otmetka/proto/identity/events/v1/events";

/*
 * Publishes identity, curriculum and grades events to a test's or benchmark's own streams as
 * their relays would (subjects, headers, proto3 JSON made by their own codecs), without running
 * them.
 */
export type FeedContext = "identity" | "curriculum" | "grades";
export type FeedEvent = ContextFeedEvent<FeedContext>;

export const feedEvent = createEventFeed<FeedContext>({ identity: I, curriculum: C, grades: G });
export const publishFeed = publishFeedEvents;
