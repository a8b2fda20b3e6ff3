import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { AccessRecord } from "@otmetka/proto/audit/v1/access_record";
import type { Caller } from "@otmetka/service-kit";
import { injectTraceHeaders } from "@otmetka/service-kit";
import { v7 as uuidv7 } from "uuid";

/** Where access records go: JetStream in production, anything that records in unit tests. */
export interface AuditSink {
  publish(record: AccessRecord): Promise<void>;
}

/**
 * Publishes to identity's AUDIT stream (`<prefix>.audit.access`, protobuf, `Nats-Msg-Id` =
 * record id so a retried publish is stored once). Awaits the stream's ack: a request whose
 * record cannot be written is answered with an error, not with the data.
 */
export function jetStreamAuditSink(js: JetStreamClient, subject: string): AuditSink {
  return {
    async publish(record) {
      const h = headers();
      injectTraceHeaders(h);
      await js.publish(subject, AccessRecord.encode(record).finish(), {
        msgID: record.recordId,
        headers: h,
      });
    },
  };
}

/** One record: who, which pupils, what operation, when. Ids only, no names. */
export function accessRecord(
  caller: Caller,
  role: string,
  operation: string,
  correlationId: string,
  pupilIds: Iterable<string>,
  now: Date,
): AccessRecord {
  return {
    recordId: uuidv7(),
    occurredAt: now,
    actorAccountId: caller.accountId,
    actorPersonId: caller.personId ?? "",
    actorRole: role.slice(0, 200),
    operation: operation.slice(0, 200),
    correlationId: correlationId.slice(0, 200),
    pupilPersonIds: [...pupilIds],
  };
}
