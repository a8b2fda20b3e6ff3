import { randomUUID } from "node:crypto";
import type { QueryFn } from "@otmetka/projections";
import { portalCloudEvent } from "../contract/cloud-event.js";
import type { PupilPerformanceData } from "../contract/schemas.js";
import { PORTAL_EVENTS, type PortalEventType } from "../contract/types.js";
import { snapshotDigest } from "./snapshots.js";

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
export function enqueue(query: QueryFn, e: OutboxEntry): Promise<void> {
  return enqueueMany(query, [e]);
}

/** Several in one statement (the debouncer's batch). */
export async function enqueueMany(query: QueryFn, entries: OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const e of entries) {
    const id = randomUUID();
    const ce = portalCloudEvent({ id, type: e.type, key: e.key, time: e.time, data: e.data });
    const row = [
      id,
      e.type,
      PORTAL_EVENTS[e.type].kind,
      e.key,
      e.municipalityId,
      e.schoolId,
      e.time.toISOString(),
      JSON.stringify(ce.data),
      e.purgeKey ?? null,
    ];
    for (const [i, v] of row.entries()) cols[i]?.push(v);
  }
  await query(
    `INSERT INTO portal.outbox (event_id, type, kind, key, municipality_id, school_id, time, data, purge_key)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::timestamptz[], $8::jsonb[], $9::text[])`,
    cols,
  );
  await notePupilSubjects(query, entries);
}

/**
 * Keeps `portal.pupil_snapshots` equal to what the outbox makes the latest message of each pupil
 * subject: a snapshot records its digest, a withdrawal deletes its subject's record, a
 * tombstone (which purges all of them) every record of the portal id. In the outbox's
 * transaction, so it never claims a snapshot that will not be published, and it survives
 * restarts.
 */
async function notePupilSubjects(query: QueryFn, entries: OutboxEntry[]): Promise<void> {
  const snaps = entries.filter((e) => e.type === "portal.v1.PupilPerformanceUpdated");
  const others = entries.filter(
    (e) => PORTAL_EVENTS[e.type].kind === "pupil" && e.type !== "portal.v1.PupilPerformanceUpdated",
  );
  for (const e of others) {
    await query(
      e.purgeKey
        ? "DELETE FROM portal.pupil_snapshots WHERE portal_id = $1"
        : "DELETE FROM portal.pupil_snapshots WHERE portal_id = $1 AND municipality_id = $2 AND school_id = $3",
      e.purgeKey ? [e.purgeKey] : [e.key, e.municipalityId, e.schoolId],
    );
  }
  if (snaps.length === 0) return;
  await query(
    `INSERT INTO portal.pupil_snapshots (portal_id, municipality_id, school_id, digest)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (portal_id, municipality_id, school_id) DO UPDATE SET digest = EXCLUDED.digest`,
    [
      snaps.map((e) => e.key),
      snaps.map((e) => e.municipalityId),
      snaps.map((e) => e.schoolId),
      snaps.map((e) => snapshotDigest(e.data as PupilPerformanceData)),
    ],
  );
}

/** The digest of the snapshot each pupil subject shows last (`subjectKey` → digest). */
export async function lastPupilSnapshots(
  query: QueryFn,
  portalIds: string[],
): Promise<Map<string, string>> {
  // Every mark marks its pupil dirty, consent or not: a batch often has no pupil to look up.
  if (portalIds.length === 0) return new Map();
  const r = await query(
    "SELECT portal_id, municipality_id, school_id, digest FROM portal.pupil_snapshots WHERE portal_id = ANY($1)",
    [portalIds],
  );
  return new Map(
    r.rows.map((x) => [
      pupilSubjectKey(String(x.portal_id), String(x.municipality_id), String(x.school_id)),
      String(x.digest),
    ]),
  );
}

export const pupilSubjectKey = (portalId: string, municipalityId: string, schoolId: string) =>
  JSON.stringify([portalId, municipalityId, schoolId]);

/**
 * Marks a pupil or programme for a debounced snapshot: the first change fixes the due time (an
 * immediate one brings it forward), and every change bumps `gen`. A pending re-check becomes
 * this change (published whatever it holds, due after its own debounce).
 */
export async function markDirty(
  query: QueryFn,
  kind: "pupil" | "programme",
  key: string | string[],
  delayMs: number,
): Promise<void> {
  // Sorted: concurrent batches then lock shared entries in one order instead of deadlocking.
  const keys = Array.isArray(key) ? [...key].sort() : [key];
  if (keys.length === 0) return;
  await query(
    `INSERT INTO portal.dirty (kind, key, due_at)
     SELECT $1, k, now() + make_interval(secs => $3) FROM unnest($2::text[]) AS k
     ON CONFLICT (kind, key) DO UPDATE
       SET gen = dirty.gen + 1,
           due_at = CASE WHEN dirty.published_digest IS NULL
                         THEN LEAST(dirty.due_at, EXCLUDED.due_at) ELSE EXCLUDED.due_at END,
           published_digest = NULL, recheck = 0`,
    [kind, keys, delayMs / 1000],
  );
}
