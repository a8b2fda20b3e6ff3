import type { RecordedEvent } from "@otmetka/eventstore";
import type { RouteTokens } from "@otmetka/messaging";

/**
 * Subject tokens of an event: every curriculum event that belongs to a school carries
 * `municipalityId` and `schoolId` in its payload (proto3 JSON), so consumers can filter and
 * partition by them; regional subjects have neither (`_`).
 */
export function routeCurriculumEvent(event: RecordedEvent): RouteTokens {
  const data = (event.data ?? {}) as { municipalityId?: unknown; schoolId?: unknown };
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  return { municipalityId: str(data.municipalityId), schoolId: str(data.schoolId) };
}
