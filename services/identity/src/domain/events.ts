import type { NewEvent } from "@otmetka/eventstore";
import * as E from "@otmetka/proto/identity/events/v1/events";

/*
 * Identity's events: proto messages of otmetka.identity.events.v1, stored and published in the
 * proto3 JSON mapping under the type `identity.v1.<Name>`.
 */
const codecs = {
  MunicipalityRegistered: E.MunicipalityRegistered,
  MunicipalityRenamed: E.MunicipalityRenamed,
  SchoolRegistered: E.SchoolRegistered,
  SchoolRenamed: E.SchoolRenamed,
  SchoolClosed: E.SchoolClosed,
  PersonRegistered: E.PersonRegistered,
  PersonalDataChanged: E.PersonalDataChanged,
  LegalHoldPlaced: E.LegalHoldPlaced,
  LegalHoldLifted: E.LegalHoldLifted,
  PersonErased: E.PersonErased,
  ClassGroupOpened: E.ClassGroupOpened,
  ClassGroupRenamed: E.ClassGroupRenamed,
  HomeroomTeacherAssigned: E.HomeroomTeacherAssigned,
  ClassGroupClosed: E.ClassGroupClosed,
  StudentEnrolled: E.StudentEnrolled,
  StudentTransferred: E.StudentTransferred,
  StudentWithdrawn: E.StudentWithdrawn,
  SubgroupOpened: E.SubgroupOpened,
  SubgroupMemberAdded: E.SubgroupMemberAdded,
  SubgroupMemberRemoved: E.SubgroupMemberRemoved,
  GuardianLinked: E.GuardianLinked,
  GuardianUnlinked: E.GuardianUnlinked,
  PortalConsentGranted: E.PortalConsentGranted,
  PortalConsentWithdrawn: E.PortalConsentWithdrawn,
  PortalIdAssigned: E.PortalIdAssigned,
  StaffAssignedToSchool: E.StaffAssignedToSchool,
  StaffUnassignedFromSchool: E.StaffUnassignedFromSchool,
  RoleGranted: E.RoleGranted,
  RoleRevoked: E.RoleRevoked,
  AccountDisabled: E.AccountDisabled,
  AccountEnabled: E.AccountEnabled,
  AccountDeleted: E.AccountDeleted,
} as const;

type Codecs = typeof codecs;
export type EventName = keyof Codecs;
type ValueOf<N extends EventName> = ReturnType<Codecs[N]["fromJSON"]>;

/** A decoded event: its short name and its message. */
export type IdentityEvent = { [N in EventName]: { name: N; value: ValueOf<N> } }[EventName];

export const EVENT_TYPE_PREFIX = "identity.v1.";

export function newEvent<N extends EventName>(name: N, value: ValueOf<N>): NewEvent {
  const codec = codecs[name] as { toJSON(v: ValueOf<N>): unknown };
  return { type: `${EVENT_TYPE_PREFIX}${name}`, data: codec.toJSON(value) };
}

/** Decodes a stored or new event; throws on a type identity does not know. */
export function decodeEvent(e: { type: string; data: unknown }): IdentityEvent {
  const name = e.type.startsWith(EVENT_TYPE_PREFIX) ? e.type.slice(EVENT_TYPE_PREFIX.length) : "";
  if (!(name in codecs)) throw new Error(`not an identity event type: ${e.type}`);
  const codec = codecs[name as EventName] as { fromJSON(o: unknown): unknown };
  return { name, value: codec.fromJSON(e.data) } as IdentityEvent;
}
