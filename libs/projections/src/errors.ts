import { describeSetAside, type SetAsideEvent } from "./set-aside.js";

/** Base of every error this package throws; `code` is stable for logs and tests. */
export class ProjectionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A projection definition or an option is unusable; names the field and the rule. */
export class InvalidProjectionDefinition extends ProjectionError {
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super("invalid_projection", `${field} ${rule}`);
  }
}

/**
 * Thrown by a handler (before it wrote anything for the event) when the event refers to a
 * fact not seen yet: the runtime keeps the event until some handler calls `provide(key)`.
 * Same effect as `ctx.defer(key)`.
 */
export class MissingReference extends ProjectionError {
  constructor(readonly awaitingKey: string) {
    super("missing_reference", `event waits for ${JSON.stringify(awaitingKey)}`);
  }
}

/** The live read model was swapped for a newer version by a rebuild: this runner must stop. */
export class ProjectionVersionSuperseded extends ProjectionError {
  constructor(
    readonly projection: string,
    readonly runningVersion: number,
    readonly liveVersion: number,
  ) {
    super(
      "projection_superseded",
      `projection ${projection}: this runner applies version ${runningVersion} but the live read model is version ${liveVersion}`,
    );
  }
}

/**
 * A live batch found the checkpoint behind what this runner committed: batches committed
 * without waiting for the WAL flush were lost in a server crash (or another runner moved
 * it). Applying the batch would leave a hole; the runner restarts at the stored checkpoint.
 */
export class CheckpointBehind extends ProjectionError {
  constructor(
    readonly source: string,
    readonly stored: number,
    readonly committed: number,
  ) {
    super(
      "checkpoint_behind",
      `checkpoint of ${source} is ${stored} but this runner committed up to ${committed}: re-applying from the checkpoint`,
    );
  }
}

/** `rebuild` could not find the projection named on the command line. */
export class UnknownProjection extends ProjectionError {
  constructor(
    readonly projection: string,
    readonly known: readonly string[],
  ) {
    super(
      "unknown_projection",
      `no projection named ${JSON.stringify(projection)}; known: ${known.join(", ") || "none"}`,
    );
  }
}

/** A rebuild was stopped (signal) before it swapped its read model in. */
export class RebuildAborted extends ProjectionError {
  constructor(readonly projection: string) {
    super("rebuild_aborted", `rebuild of ${projection} was aborted before the swap`);
  }
}

/** The live read model is an older version than the code: rebuild it before running live. */
export class ProjectionNeedsRebuild extends ProjectionError {
  constructor(
    readonly projection: string,
    readonly runningVersion: number,
    readonly liveVersion: number,
  ) {
    super(
      "projection_needs_rebuild",
      `projection ${projection}: live read model is version ${liveVersion}, code is version ${runningVersion}; run \`otmetka-projections rebuild ${projection}\``,
    );
  }
}

/**
 * An event's payload is not JSON. Payloads are parsed on first read of `event.data`; the
 * runtime then counts the event as malformed and skips it, as it does a message without an
 * envelope.
 */
export class MalformedEventData extends ProjectionError {
  constructor(
    readonly eventId: string,
    cause: unknown,
  ) {
    super("malformed_event_data", `payload of event ${eventId} is not JSON: ${String(cause)}`);
  }
}

/**
 * Reported through the runner's `onError` (where `"set aside"`) and a rebuild's `onSetAside`:
 * an event PostgreSQL refused to store (a data exception) was recorded in `_set_aside` and
 * the read model moved past it. Not a failure of the runner: it goes on.
 */
export class EventSetAside extends ProjectionError {
  constructor(readonly event: SetAsideEvent) {
    super("event_set_aside", describeSetAside(event));
  }
}

/**
 * Setting one more event aside would leave the read model holding more than `limit`
 * (`maxSetAside`) of them: so many refused events more likely mean a handler bug than bad
 * data, and the read model stops at `event` (the batch fails and is retried, like any failed
 * batch) instead of silently going on without them. Deleting rows from `_set_aside` (after
 * fixing the cause) or raising the limit lets it go on. A rebuild fails with it.
 */
export class SetAsideLimitReached extends ProjectionError {
  constructor(
    readonly projection: string,
    readonly limit: number,
    /** Events the read model (or the rebuild) holds set aside already. */
    readonly setAside: number,
    /** The event that was not set aside. */
    readonly event: SetAsideEvent,
    /** PostgreSQL's error for it. */
    override readonly cause?: unknown,
  ) {
    const e = event;
    super(
      "set_aside_limit",
      `projection ${projection}: ${setAside} events set aside already and the limit (maxSetAside) is ${limit}: ` +
        `not setting aside event ${e.eventId} (${e.type}, stream ${e.streamId} version ${e.version}, ` +
        `${e.source} sequence ${e.sequence}: ${e.sqlstate} ${e.message}); the read model stops here rather than go on ` +
        `without it (a handler bug refusing many events?). Inspect them: \`otmetka-projections set-aside ${projection}\`; ` +
        "fix the cause, then delete their rows (the count drops) or raise maxSetAside",
    );
  }
}
