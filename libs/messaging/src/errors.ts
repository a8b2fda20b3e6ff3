/** Base of every error this package throws on purpose. */
export class MessagingError extends Error {
  override name = "MessagingError";
}

/** A caller passed a value the package cannot use; the message names the field and the rule. */
export class InvalidMessagingArgument extends MessagingError {
  override name = "InvalidMessagingArgument";
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field} ${rule}`);
  }
}

/** A message on a domain stream lacks an envelope header the runtime needs. */
export class MissingEnvelopeHeader extends MessagingError {
  override name = "MissingEnvelopeHeader";
  constructor(
    readonly header: string,
    readonly subject: string,
  ) {
    super(`message on ${subject} has no ${header} header`);
  }
}

/** An operator command named a stream that is not parked. */
export class StreamNotParked extends MessagingError {
  override name = "StreamNotParked";
  constructor(
    readonly durable: string,
    readonly streamId: string,
  ) {
    super(`stream ${JSON.stringify(streamId)} is not parked for consumer ${durable}`);
  }
}

/** JetStream stored a relay publish at another sequence than expected (or as a duplicate). */
export class PublishOutOfSequence extends MessagingError {
  override name = "PublishOutOfSequence";
  constructor(
    readonly eventId: string,
    readonly expectedSequence: number,
  ) {
    super(`stream did not store event ${eventId} at sequence ${expectedSequence}`);
  }
}

/** JetStream answered a relay publish with an error (wrong last sequence, limits, ...). */
export class PublishRejected extends MessagingError {
  override name = "PublishRejected";
  constructor(
    readonly subject: string,
    readonly code: number,
    description: string,
  ) {
    super(`publish to ${subject} rejected: ${description} (${code})`);
  }
}

/** No JetStream ack arrived for a relay publish in time (it may or may not be stored). */
export class PublishAckTimeout extends MessagingError {
  override name = "PublishAckTimeout";
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no ack for a publish to ${subject} within ${timeoutMs} ms`);
  }
}

/** JetStream did not answer a provisioning request (stream info, add, update) in any try. */
export class ProvisioningTimeout extends MessagingError {
  override name = "ProvisioningTimeout";
  constructor(
    readonly stream: string,
    readonly operation: string,
    readonly tries: number,
    options?: ErrorOptions,
  ) {
    super(
      `no answer from JetStream to the ${operation} of stream ${stream} in ${tries} tries`,
      options,
    );
  }
}

/**
 * A retried delete of a partition's consumer found it re-created since it was read (another
 * `created`): the partition's next lease holder made it, so it is left alone.
 */
export class PartitionConsumerReplaced extends MessagingError {
  override name = "PartitionConsumerReplaced";
  constructor(
    readonly stream: string,
    readonly consumer: string,
  ) {
    super(`consumer ${consumer} of stream ${stream} was re-created by another holder meanwhile`);
  }
}
