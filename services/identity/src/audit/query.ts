import { DomainError } from "@otmetka/service-kit";
import type pg from "pg";

export interface AuditEntry {
  recordId: string;
  occurredAt: Date;
  actorAccountId: string;
  actorPersonId: string | null;
  actorRole: string;
  operation: string;
  correlationId: string;
}

export interface AuditPageRequest {
  personId: string;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  pageSize: number;
  /** next_page_token of the previous page, or "" for the first. */
  pageToken: string;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

const invalid = (field: string, rule: string) =>
  new DomainError("invalid_argument", `${field}: ${rule}`, { field });

interface Position {
  occurredAt: string;
  recordId: string;
}

// A keyset position (time, record id) of the last entry returned; opaque to clients.
const encodeToken = (p: Position) =>
  Buffer.from(JSON.stringify([p.occurredAt, p.recordId])).toString("base64url");

function decodeToken(token: string): Position | undefined {
  if (token === "") return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === "string" &&
      !Number.isNaN(Date.parse(v[0])) &&
      typeof v[1] === "string" &&
      /^[0-9a-f-]{36}$/.test(v[1])
    ) {
      return { occurredAt: v[0], recordId: v[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw invalid("page_token", "is not a token this service returned");
}

export function requirePageSize(raw: number): number {
  if (raw === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(raw) || raw < 1 || raw > MAX_PAGE_SIZE) {
    throw invalid("page_size", `must be 1-${MAX_PAGE_SIZE} (0 for ${DEFAULT_PAGE_SIZE})`);
  }
  return raw;
}

/**
 * One page of the records naming a person, newest first. Walks record_pupils' primary key
 * backwards (partitions outside [from, to) pruned) and fetches each record by its key.
 */
export async function listAccessAudit(
  pool: pg.Pool,
  req: AuditPageRequest,
): Promise<{ entries: AuditEntry[]; nextPageToken: string }> {
  if (req.to.getTime() <= req.from.getTime()) throw invalid("to", "must be after from");
  const after = decodeToken(req.pageToken);
  const limit = requirePageSize(req.pageSize);
  const { rows } = await pool.query<{
    record_id: string;
    occurred_at: Date;
    actor_account_id: string;
    actor_person_id: string | null;
    actor_role: string;
    operation: string;
    correlation_id: string;
  }>(
    `SELECT r.record_id, r.occurred_at, r.actor_account_id, r.actor_person_id, r.actor_role,
            r.operation, r.correlation_id
       FROM access_audit.record_pupils p
       JOIN access_audit.records r
         ON r.record_id = p.record_id AND r.occurred_at = p.occurred_at
      WHERE p.pupil_id = $1
        AND p.occurred_at >= $2 AND p.occurred_at < $3
        AND r.occurred_at >= $2 AND r.occurred_at < $3
        AND ($4::timestamptz IS NULL OR (p.occurred_at, p.record_id) < ($4::timestamptz, $5::uuid))
      ORDER BY p.occurred_at DESC, p.record_id DESC
      LIMIT $6`,
    [
      req.personId,
      req.from.toISOString(),
      req.to.toISOString(),
      after?.occurredAt ?? null,
      after?.recordId ?? null,
      limit + 1,
    ],
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    entries: page.map((r) => ({
      recordId: r.record_id,
      occurredAt: r.occurred_at,
      actorAccountId: r.actor_account_id,
      actorPersonId: r.actor_person_id,
      actorRole: r.actor_role,
      operation: r.operation,
      correlationId: r.correlation_id,
    })),
    nextPageToken:
      rows.length > limit && last
        ? encodeToken({ occurredAt: last.occurred_at.toISOString(), recordId: last.record_id })
        : "",
  };
}
