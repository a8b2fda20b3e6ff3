import { absenceReasonToJSON, markValueToJSON } from "@otmetka/proto/grades/events/v1/events";
import { personKindToJSON } from "@otmetka/proto/identity/v1/identity_service";

/** Proto enum names without their prefix, as the GraphQL enums spell them. */
const strip = (prefix: string, name: string) =>
  name.startsWith(prefix) && name !== "UNRECOGNIZED" ? name.slice(prefix.length) : "UNSPECIFIED";

export const markValue = (v: number) => strip("MARK_VALUE_", markValueToJSON(v));
export const absenceReason = (v: number) => strip("ABSENCE_REASON_", absenceReasonToJSON(v));
export const personKind = (v: number) => strip("PERSON_KIND_", personKindToJSON(v));
