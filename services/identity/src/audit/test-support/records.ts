import { randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { newEventId } from "@otmetka/eventstore";
import type { AccessRecord } from "@otmetka/proto/audit/v1/access_record";
import { encodeAccessRecord } from "../record.js";
import type { AuditNames } from "../stream.js";

/** An access record as the gateway would publish it; `pupils` and `at` vary per test. */
export function accessRecord(pupils: string[], at: string, overrides: Partial<AccessRecord> = {}) {
  return {
    recordId: newEventId(),
    occurredAt: new Date(at),
    actorAccountId: randomUUID(),
    actorPersonId: randomUUID(),
    actorRole: "TEACHER@school:8c1b6f6e-3c7a-4d1e-9f0a-0b1c2d3e4f50",
    operation: "ClassJournal",
    correlationId: randomUUID(),
    pupilPersonIds: pupils,
    ...overrides,
  } satisfies AccessRecord;
}

/** Publishes records to AUDIT, each with `Nats-Msg-Id` unless `msgId` is false. */
export async function publishRecords(
  nc: NatsConnection,
  names: AuditNames,
  records: AccessRecord[],
  msgId = true,
): Promise<void> {
  const js = jetstream(nc);
  await Promise.all(
    records.map((r) =>
      js.publish(names.accessSubject, encodeAccessRecord(r), msgId ? { msgID: r.recordId } : {}),
    ),
  );
}
