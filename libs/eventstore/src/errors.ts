/**
 * Typed errors of the event store. Each carries the values a caller needs to react (retry,
 * map to a gRPC status) and a message naming the field and the rule it broke.
 */

/** Base class, so callers can catch every event-store error at once. */
export class EventStoreError extends Error {
  override name = "EventStoreError";
}

/** An append's `expected` did not match the stream's version; nothing was written. */
export class WrongExpectedVersion extends EventStoreError {
  override name = "WrongExpectedVersion";
  constructor(
    readonly streamId: string,
    readonly expected: string,
    /** The stream's version when the append was checked; 0 means the stream has no events. */
    readonly actualVersion: number,
  ) {
    super(
      `expected version of stream "${streamId}" is ${expected}, but the stream is at version ${actualVersion}`,
    );
  }
}

/** A command id was used again with a different payload; nothing was written. */
export class CommandIdReused extends EventStoreError {
  override name = "CommandIdReused";
  constructor(
    readonly commandId: string,
    readonly storedHash: string,
    readonly payloadHash: string,
  ) {
    super(
      `commandId "${commandId}" was already used for a different payload (stored hash ${storedHash.slice(0, 12)}…, this payload ${payloadHash.slice(0, 12)}…); a command id must identify one payload`,
    );
  }
}

/** The command helper kept losing the race for its stream and gave up. */
export class ConcurrencyRetriesExhausted extends EventStoreError {
  override name = "ConcurrencyRetriesExhausted";
  constructor(
    readonly streamId: string,
    readonly attempts: number,
    override readonly cause: WrongExpectedVersion,
  ) {
    super(
      `stream "${streamId}" changed concurrently on each of ${attempts} attempts; maxAttempts reached`,
    );
  }
}

/** runMultiStreamCommand lost the race for its streams (or its alsoWrite rows) on every attempt. */
export class CommandRetriesExhausted extends EventStoreError {
  override name = "CommandRetriesExhausted";
  constructor(
    readonly commandId: string,
    readonly attempts: number,
    /** The last lost race: WrongExpectedVersion or a retried unique violation. */
    override readonly cause: Error,
  ) {
    super(
      `command "${commandId}": its streams changed concurrently on each of ${attempts} attempts; maxAttempts reached`,
    );
  }
}

/**
 * `append` ran inside a transaction that had already written. Its transaction id was then
 * assigned before it owned its stream locks, which would let `readAll` deliver a stream out
 * of version order, so the append is refused.
 */
export class AppendNotFirstWrite extends EventStoreError {
  override name = "AppendNotFirstWrite";
  constructor() {
    super(
      "append must be the first write of its transaction: the transaction already has an id, " +
        "so its stream locks would come too late to keep readAll in version order",
    );
  }
}

/** The input of a call broke a rule (empty stream id, duplicate stream, bad checkpoint...). */
export class InvalidEventStoreArgument extends EventStoreError {
  override name = "InvalidEventStoreArgument";
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}
