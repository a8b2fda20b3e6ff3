import type { RecordedEvent } from "@otmetka/eventstore";
import type { RouteTokens } from "@otmetka/messaging";

/** Subject tokens of a grades event: every one carries `municipalityId` and `schoolId`. */
export function routeGradesEvent(event: RecordedEvent): RouteTokens {
  const data = (event.data ?? {}) as { municipalityId?: unknown; schoolId?: unknown };
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  return { municipalityId: str(data.municipalityId), schoolId: str(data.schoolId) };
}
