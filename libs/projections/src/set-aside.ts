import type pg from "pg";
import { InvalidProjectionDefinition } from "./errors.js";
import type { Projection, ProjectionEvent } from "./projection.js";
import { quoteIdent } from "./runtime-tables.js";

/**
 * Which failures are a property of the event, so that applying it again can only fail
 * again: PostgreSQL's class 22 "data exception" (22P05 a `\u0000` in jsonb, 22021 a NUL in
 * text, 22003 a number out of range, 22P02 invalid text for a type, 22001 too long, ...).
 * The value written came out of the event's payload, and the same payload gives the same
 * value on every try.
 *
 * Class 23 (integrity constraint violation) is NOT set aside: whether a unique key or a
 * foreign key is violated depends on the read model's rows, and so on the order events of
 * different contexts arrived in (a foreign key to a fact of another context is a missing
 * reference, which `defer` handles) or on a handler bug that every later event would hit
 * too; setting those aside would silently drop events that a fixed handler or a later fact
 * would have applied. They stop the projection, as any other failure does, until fixed.
 * Everything else (connection lost, 40001 serialization failure, 40P01 deadlock, 57P01
 * shutdown, 53xxx resources, a handler's own exception) is retried, never set aside.
 */
export function eventDataError(err: unknown): { sqlstate: string; message: string } | undefined {
  // A handler may wrap the driver's error: look down its `cause` chain (bounded).
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    const { code, message, severity } = e as {
      code?: unknown;
      message?: unknown;
      severity?: unknown;
    };
    // `severity` tells a PostgreSQL error (pg's DatabaseError) from a Node system error.
    if (typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code) && typeof severity === "string") {
      return { sqlstate: code, message: String(message) };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a batch is told to set aside: event id → the error it failed with. */
export type SetAsideReasons = ReadonlyMap<string, SetAsideReason>;

export interface SetAsideReason {
  sqlstate: string;
  message: string;
  /** When it was first set aside (a rebuild keeps the live record's time); default now. */
  at?: Date;
}

/** One row of `_set_aside`. */
export interface SetAsideEvent {
  projection: string;
  source: string;
  sequence: number;
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  sqlstate: string;
  message: string;
  setAsideAt: Date;
}

/**
 * Events a batch could not store (a data exception, see `eventDataError`): the runtime
 * applied everything else and moved past them. The event itself stays in its stream at
 * `source`/`sequence`; its payload is not copied (it is what PostgreSQL refused).
 */
export const setAsideTableSql = (s: string) => [
  `CREATE TABLE IF NOT EXISTS ${s}._set_aside (
    event_id text PRIMARY KEY, source text NOT NULL, sequence bigint NOT NULL,
    stream_id text NOT NULL, version int NOT NULL, type text NOT NULL,
    sqlstate text NOT NULL, message text NOT NULL,
    set_aside_at timestamptz NOT NULL DEFAULT now())`,
];

/** The record's columns, in `_set_aside`'s order (NULs stripped: PostgreSQL refuses them). */
export function setAsideRow(r: SetAsideEvent): unknown[] {
  return [
    clean(r.eventId),
    r.source,
    r.sequence,
    clean(r.streamId),
    r.version,
    clean(r.type),
    r.sqlstate,
    clean(r.message),
    r.setAsideAt.toISOString(),
  ];
}

const clean = (text: string) => String(text).replaceAll("\u0000", "");

/** The warning every path reports: names the projection, the event and the error. */
export function describeSetAside(r: Omit<SetAsideEvent, "setAsideAt">): string {
  return (
    `projection ${r.projection}: set aside event ${r.eventId} (${r.type}, stream ${r.streamId} ` +
    `version ${r.version}, ${r.source} sequence ${r.sequence}): ${r.sqlstate} ${r.message}`
  );
}

export function toSetAside(
  projection: string,
  event: ProjectionEvent,
  reason: SetAsideReason,
): SetAsideEvent {
  return {
    projection,
    source: event.context,
    sequence: event.sequence,
    eventId: event.eventId,
    streamId: event.streamId,
    version: event.version,
    type: event.type,
    sqlstate: reason.sqlstate,
    message: reason.message,
    setAsideAt: reason.at ?? new Date(),
  };
}

/**
 * How many set-aside events a read model may hold unless its projection or runner says
 * otherwise. A few refused events are bad data; dozens are more likely a handler bug (a bad
 * cast refusing every event of a type), which must stop the read model rather than drop them.
 */
export const DEFAULT_MAX_SET_ASIDE = 20;

/** `maxSetAside` must be an integer >= 0 (0: nothing is ever set aside). */
export function checkMaxSetAside(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidProjectionDefinition(
      "maxSetAside",
      `must be an integer >= 0, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The limit a runner or rebuild applies: its own option, else the projection's, else 20. */
export function setAsideLimit(projection: Projection<any>, option?: number): number {
  return checkMaxSetAside(option ?? projection.maxSetAside ?? DEFAULT_MAX_SET_ASIDE);
}

/** The rows of a schema's `_set_aside`: what counts against the limit (an operator may delete them). */
export async function countSetAside(db: pg.Pool | pg.PoolClient, schema: string): Promise<number> {
  const r = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${quoteIdent(schema)}._set_aside`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

const NAME = /^[a-z][a-z0-9_]{0,40}$/;

/**
 * The events a read model set aside, oldest first (`otmetka-projections set-aside <name>`).
 * `schema` defaults to the live one, `proj_<projection>`; empty for a read model that never
 * set anything aside (or was created before the table existed and has not started since).
 */
export async function readSetAside(
  db: pg.Pool | pg.PoolClient,
  projection: string,
  schema = `proj_${projection}`,
): Promise<SetAsideEvent[]> {
  if (!NAME.test(projection)) {
    throw new InvalidProjectionDefinition(
      "projection",
      `must be lower-case letters, digits or '_' (max 41), got ${JSON.stringify(projection)}`,
    );
  }
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [
    `${quoteIdent(schema)}._set_aside`,
  ]);
  if (!exists.rows[0]?.t) return [];
  const r = await db.query<{
    event_id: string;
    source: string;
    sequence: string;
    stream_id: string;
    version: number;
    type: string;
    sqlstate: string;
    message: string;
    set_aside_at: Date;
  }>(`SELECT * FROM ${quoteIdent(schema)}._set_aside ORDER BY set_aside_at, source, sequence`);
  return r.rows.map((row) => ({
    projection,
    source: row.source,
    sequence: Number(row.sequence),
    eventId: row.event_id,
    streamId: row.stream_id,
    version: row.version,
    type: row.type,
    sqlstate: row.sqlstate,
    message: row.message,
    setAsideAt: row.set_aside_at,
  }));
}
