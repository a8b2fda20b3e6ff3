import type { RecordedEvent } from "@otmetka/eventstore";
import type { RouteTokens } from "@otmetka/messaging";

/**
 * Subject tokens of an event: every identity event that belongs to a school carries
 * `municipalityId` and `schoolId` in its payload (proto3 JSON), so consumers can filter and
 * partition by them; municipality events have no school (`_`).
 */
export function routeIdentityEvent(event: RecordedEvent): RouteTokens {
  const data = (event.data ?? {}) as { municipalityId?: unknown; schoolId?: unknown };
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  return { municipalityId: str(data.municipalityId), schoolId: str(data.schoolId) };
}
