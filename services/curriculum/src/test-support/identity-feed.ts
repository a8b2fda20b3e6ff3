import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RecordedEvent } from "@otmetka/eventstore";
import {
  createEventFeed,
  ensureStream,
  type MessagingNames,
  publishFeedEvents,
} from "@otmetka/messaging";
import * as E from "@otmetka/proto/identity/events/v1/events";

/*
 * Publishes identity events to the test's own identity stream exactly as identity's relay
 * would (subjects, headers, proto3 JSON made by identity's own codecs), without running it.
 */
const codecs = {
  SchoolRegistered: E.SchoolRegistered,
  PersonRegistered: E.PersonRegistered,
  ClassGroupOpened: E.ClassGroupOpened,
  ClassGroupClosed: E.ClassGroupClosed,
  SubgroupOpened: E.SubgroupOpened,
  PersonErased: E.PersonErased,
  StaffAssignedToSchool: E.StaffAssignedToSchool,
  StudentEnrolled: E.StudentEnrolled,
  StudentTransferred: E.StudentTransferred,
  StudentWithdrawn: E.StudentWithdrawn,
  GuardianLinked: E.GuardianLinked,
};
type Name = keyof typeof codecs;
const feed = createEventFeed({ identity: codecs });

export function identityEvent(
  streamId: string,
  name: Name,
  value: Record<string, unknown>,
): RecordedEvent {
  return feed("identity", streamId, name, value).event;
}

export async function publishIdentityEvents(
  nc: NatsConnection,
  names: MessagingNames,
  events: RecordedEvent[],
) {
  await ensureStream(await jetstreamManager(nc), names.contextStream("identity"));
  await publishFeedEvents(
    nc,
    names,
    events.map((event) => ({ context: "identity", event })),
  );
}

/** A school with staff, class groups and subgroups, as identity would announce them. */
export function schoolFixture(startYear = 2026) {
  const municipalityId = randomUUID();
  const schoolId = randomUUID();
  const teachers = {
    math: randomUUID(),
    rus: randomUUID(),
    en1: randomUUID(),
    en2: randomUUID(),
    sub: randomUUID(),
  };
  const classGroups = { a5: randomUUID(), b5: randomUUID(), old: randomUUID() };
  const subgroups = { en1: randomUUID(), en2: randomUUID() };
  const at = { schoolId, municipalityId };
  const events = [
    identityEvent(`school-${schoolId}`, "SchoolRegistered", {
      ...at,
      name: "СОШ 5",
      timeZone: "Asia/Yekaterinburg",
    }),
    ...Object.values(teachers).map((personId) =>
      identityEvent(`person-${personId}`, "PersonRegistered", {
        personId,
        ...at,
        kind: E.PersonKind.PERSON_KIND_STAFF,
      }),
    ),
    identityEvent(`cg-${classGroups.a5}`, "ClassGroupOpened", {
      classGroupId: classGroups.a5,
      ...at,
      academicYear: { startYear },
      gradeLevel: 5,
      letter: "А",
    }),
    identityEvent(`cg-${classGroups.b5}`, "ClassGroupOpened", {
      classGroupId: classGroups.b5,
      ...at,
      academicYear: { startYear },
      gradeLevel: 5,
      letter: "Б",
    }),
    identityEvent(`cg-${classGroups.old}`, "ClassGroupOpened", {
      classGroupId: classGroups.old,
      ...at,
      academicYear: { startYear: startYear - 1 },
      gradeLevel: 4,
      letter: "А",
    }),
    identityEvent(`sg-${subgroups.en1}`, "SubgroupOpened", {
      subgroupId: subgroups.en1,
      classGroupId: classGroups.a5,
      ...at,
      subjectId: "ENG",
      name: "Англ. 1",
    }),
    identityEvent(`sg-${subgroups.en2}`, "SubgroupOpened", {
      subgroupId: subgroups.en2,
      classGroupId: classGroups.a5,
      ...at,
      subjectId: "ENG",
      name: "Англ. 2",
    }),
  ];
  return { municipalityId, schoolId, teachers, classGroups, subgroups, events, startYear };
}
