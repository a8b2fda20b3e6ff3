export type { ConsumedEvent, EventHandler } from "./consumed-event.js";
export { stopOnConsumerLoss } from "./consumer-loss.js";
export {
  type DeadLetteredMessage,
  type DeadLetterReason,
  DLQ as DEAD_LETTER_HEADERS,
  readDeadLetters,
} from "./dead-letter.js";
export { type Delivery, deliveryOf } from "./delivery-info.js";
export {
  type Envelope,
  envelopeHeaders,
  envelopeOf,
  H as ENVELOPE_HEADERS,
  readEnvelope,
} from "./envelope.js";
export { decodeData, EnvelopeEvent } from "./envelope-event.js";
export { type ScannedEnvelope, scanEnvelope } from "./envelope-scan.js";
export {
  InvalidMessagingArgument,
  MessagingError,
  MissingEnvelopeHeader,
  PartitionConsumerReplaced,
  ProvisioningTimeout,
  PublishOutOfSequence,
  StreamNotParked,
} from "./errors.js";
export { EventConsumer, type EventConsumerOptions, ownerOf } from "./event-consumer.js";
export {
  createEventFeed,
  type EventCodec,
  type FeedEvent,
  type FeedEventMaker,
  publishFeedEvents,
  syntheticRecordedEvent,
} from "./event-feed.js";
export {
  type EventRouting,
  type OutgoingMessage,
  type RouteFn,
  type RouteTokens,
  toMessage,
} from "./event-message.js";
export {
  type EventSourcedService,
  type EventSourcedServiceConfig,
  type EventSourcedServiceOptions,
  type ServiceEventLog,
  startEventSourcedService,
} from "./event-sourced-service.js";
export type { GroupCounters } from "./group-context.js";
export { DEFAULT_RETRY, type RetryPolicy } from "./handler-runner.js";
export { type HeaderMap, headerMapOf } from "./header-map.js";
export {
  DEFAULT_LEASE_TTL_MS,
  openLeaseBucket,
  openParkingBucket,
  openRevocationsBucket,
  REVOCATION_TTL_MS,
} from "./kv-buckets.js";
export { compareCheckpoints, type LogReader } from "./log-reader.js";
export { type MessagingNames, type MessagingNamesOptions, messagingNames } from "./names.js";
export {
  listParkedStreams,
  type OperatorTarget,
  parkedEvents,
  releaseParkedStream,
  skipPoisonEvent,
} from "./operator.js";
export type { ParkedStream, ParkState } from "./parking.js";
export { DEFAULT_DUPLICATE_WINDOW_MS, ensureStream, type StreamSpec } from "./provisioning.js";
export { OutboxRelay, type RelayOptions, type RelayStats } from "./relay.js";
export { RELAY_LOCK_CLASS } from "./relay-lock.js";
export { type ResumePoint, readResumePoint } from "./relay-resume.js";
export { type RepublishOptions, republish } from "./republish.js";
export {
  type RevocableToken,
  type Revocation,
  type RevocationList,
  type RevocationReason,
  type RevocationsBucket,
  revokeAccess,
  revokeSession,
  sessionRevocationKey,
  type WatchRevocationsOptions,
  watchRevocations,
} from "./revocations.js";
export {
  type ContextRelayOptions,
  connectServiceNats,
  type ServiceNatsConfig,
  startContextRelay,
} from "./service-messaging.js";
export {
  DEFAULT_PARTITIONS,
  eventSubject,
  fnv1a32,
  NO_TOKEN,
  partitionFilter,
  partitionOf,
  streamIdOfKey,
  streamKey,
  subjectToken,
} from "./subjects.js";
export { Wakeup } from "./wakeup.js";
