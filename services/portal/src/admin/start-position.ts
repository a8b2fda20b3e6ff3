import type { StartPosition as StartPositionMsg } from "@otmetka/proto/portal/v1/portal_admin_service";
import { DomainError } from "@otmetka/service-kit";
import type { StartPosition } from "../subscribers/consumers.js";

/** proto StartPosition -> the library's; none set means a backfill. */
export function startPositionOf(m: StartPositionMsg | undefined): StartPosition {
  if (!m) return { from: "backfill" };
  if (m.sequence !== undefined) {
    const sequence = Number(m.sequence);
    if (!Number.isSafeInteger(sequence) || sequence < 1) {
      throw new DomainError("invalid_argument", "start.sequence: must be an integer >= 1", {
        field: "start.sequence",
      });
    }
    return { from: "sequence", sequence };
  }
  if (m.time !== undefined) {
    // RFC 3339 only: Date would also take "2026" or "yesterday"-like locale strings.
    const time = new Date(m.time);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(m.time) || Number.isNaN(time.getTime())) {
      throw new DomainError("invalid_argument", "start.time: must be an RFC 3339 time", {
        field: "start.time",
      });
    }
    return { from: "time", time };
  }
  if (m.start) return { from: "start" };
  if (m.new) return { from: "new" };
  return { from: "backfill" };
}
