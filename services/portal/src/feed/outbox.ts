import { randomUUID } from "node:crypto";
import type { QueryFn } from "@otmetka/projections";
import { portalCloudEvent } from "../contract/cloud-event.js";
import { PORTAL_EVENTS, type PortalEventType } from "../contract/types.js";

export interface OutboxEntry {
  type: PortalEventType;
  key: string;
  municipalityId: string;
  schoolId: string;
  time: Date;
  data: unknown;
  purgeKey?: string;
}

/** Queues one portal event in the caller's transaction; data is checked against the schema now. */
export async function enqueue(query: QueryFn, e: OutboxEntry): Promise<void> {
  const id = randomUUID();
  const ce = portalCloudEvent({ id, type: e.type, key: e.key, time: e.time, data: e.data });
  await query(
    `INSERT INTO portal.outbox (event_id, type, kind, key, municipality_id, school_id, time, data, purge_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      id,
      e.type,
      PORTAL_EVENTS[e.type].kind,
      e.key,
      e.municipalityId,
      e.schoolId,
      e.time,
      JSON.stringify(ce.data),
      e.purgeKey ?? null,
    ],
  );
}

/** Marks a pupil or programme for a debounced snapshot: the first change fixes the due time. */
export async function markDirty(
  query: QueryFn,
  kind: "pupil" | "programme",
  key: string,
  delayMs: number,
): Promise<void> {
  await query(
    `INSERT INTO portal.dirty (kind, key, due_at) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (kind, key) DO NOTHING`,
    [kind, key, delayMs / 1000],
  );
}
