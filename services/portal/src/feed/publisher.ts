import { setImmediate as nextTurn } from "node:timers/promises";
import type { JetStreamClient, JetStreamManager, PubAck } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { liveSchema, RunnerLock } from "@otmetka/projections";
import type pg from "pg";
import { type PupilPerformanceData, pupilPerformanceUpdatedSchema } from "../contract/schemas.js";
import {
  CLOUD_EVENT_SOURCE,
  dataSchemaUrl,
  PORTAL_EVENTS,
  type PortalEventType,
} from "../contract/types.js";
import type { PortalNames } from "../stream.js";
import {
  armPendingDays,
  duePlacement,
  msUntilDay,
  type Placement,
  regionToday,
} from "./enrollment.js";
import { enqueue, enqueueMany, lastPupilSnapshots, pupilSubjectKey } from "./outbox.js";
import type { PerformanceSource } from "./performance-source.js";
import { FEED_PROJECTION } from "./projection.js";
import {
  type PublishablePupil,
  programmeSnapshot,
  pupilSnapshots,
  snapshotDigest,
} from "./snapshots.js";

export interface FeedPublisherOptions {
  pool: pg.Pool;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: PortalNames;
  /** How often due snapshots and the outbox are looked at when idle; default 50 ms. */
  pollMs?: number;
  onError?: (err: unknown, where: string) => void;
  /** Performance snapshots (reporting's GetDiaries in the service); default the feed's read model. */
  performance?: PerformanceSource;
  /** How long a pupil the source did not answer for waits before it is asked again; default 5 s. */
  deferMs?: number;
  /**
   * How long after a pupil's snapshot is enqueued it is taken again (reporting may not have
   * applied the latest change yet); published again only if it differs. 0 (default): never.
   */
  recheckMs?: number;
  /** Called once when another instance holds the publisher's lock (this one waits). */
  onStandby?: () => void;
  /** Called when the held lock's connection ends: publishing stops before the next message. */
  onLockLost?: () => void;
}

/** Header of every PORTAL message: the outbox row it came from (see `resume`). */
export const OUTBOX_ID_HEADER = "Portal-Outbox-Id";

interface OutboxRow {
  id: string;
  event_id: string;
  type: PortalEventType;
  kind: string;
  key: string;
  municipality_id: string;
  school_id: string;
  time: Date;
  /** The data's JSON text as stored (embedded as is: no parse and re-stringify). */
  data: string;
  purge_key: string | null;
}

const encoder = new TextEncoder();

/**
 * Publishes of a step awaiting their acks at once: pipelined, but bounded, so that a server
 * that stops acking holds the step (and the lock check before each message) instead of the
 * client buffering the whole step.
 */
const IN_FLIGHT = 64;

/**
 * Re-checks of one change at most: a re-check that finds new figures is checked once more
 * (reporting may still be catching up), up to this many; one that finds none ends it.
 */
export const MAX_RECHECKS = 3;

/**
 * A batch's dirty entries (kind[], key[], gen[] as $1..$3) that no change has touched since they
 * were read, locked; `i` their position in the arrays. One a projection batch holds is skipped:
 * that batch bumps its gen anyway, and waiting for it could close a lock cycle.
 */
const UNCHANGED_ENTRIES = `SELECT x.kind, x.key, c.i FROM portal.dirty x
  JOIN unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS c(kind, key, gen, i)
    ON x.kind = c.kind AND x.key = c.key AND x.gen = c.gen
  ORDER BY x.kind, x.key FOR UPDATE OF x SKIP LOCKED`;

interface DueEntry {
  kind: string;
  key: string;
  gen: string;
  /** Set on a re-check: the digest of the snapshot it checks. */
  published_digest: string | null;
  recheck: number;
}

/**
 * Two loops: the debouncer turns due "dirty" pupils and programmes into snapshots in the outbox
 * (consent checked under the pupil's row lock, so a snapshot never follows a withdrawal) and
 * takes each pupil's snapshot again after `recheckMs` (published only if it changed), and
 * the publisher moves the outbox to PORTAL in id order (Nats-Msg-Id = event id, so a retry
 * after a lost ack is dropped by the server) and purges an erased pupil's subjects. Both run
 * in one instance per database and stream, the holder of a session advisory lock; others wait
 * as standbys and take over when its connection or process ends.
 */
export class FeedPublisher {
  private readonly stopping = new AbortController();
  private lockLost = false;
  private running: Promise<void> = Promise.resolve();
  readonly counters = {
    published: 0,
    snapshots: 0,
    purges: 0,
    invalid: 0,
    deferred: 0,
    busy: 0,
    /** Re-checks taken, and those that found new figures (published again). */
    rechecks: 0,
    recheckPublished: 0,
    /** Snapshots left out because their subject's latest message is the same snapshot. */
    unchanged: 0,
    /** Times this instance took the lock and resumed from PORTAL. */
    activations: 0,
    /** Outbox rows found already in PORTAL at a resume (published before a crash). */
    resumedRows: 0,
  };
  constructor(private readonly o: FeedPublisherOptions) {}

  start(): this {
    this.running = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    const lock = new RunnerLock(this.o.pool, `portal-publisher:${this.o.names.stream}`);
    lock.onLost = () => {
      this.lockLost = true;
      this.o.onLockLost?.();
    };
    while (!this.stopped) {
      try {
        if (!(await lock.acquire(this.stopping.signal, this.o.onStandby))) return;
      } catch (err) {
        this.o.onError?.(err, "publisher lock");
        await sleep(1000);
        continue;
      }
      this.lockLost = false;
      try {
        await this.resume();
        await armPendingDays(
          (text, params) => this.o.pool.query(text, params),
          liveSchema({ name: FEED_PROJECTION }),
        );
        this.counters.activations++;
        await Promise.all([
          this.loop("debounce", () => this.debounceOnce()),
          this.loop("publish", () => this.publishOnce()),
        ]);
      } catch (err) {
        this.o.onError?.(err, "publisher resume");
        await sleep(500);
      } finally {
        await lock.release();
      }
    }
  }

  /**
   * Drops the outbox rows PORTAL already holds: those up to the one its last message came from
   * (one publisher, in id order). A process that ended between publishing and deleting them
   * would otherwise publish them again, and after the 2-minute duplicate window the server
   * would store them twice. An erasure's tombstone among them gets its purge (again: a purge
   * is idempotent), as the crash may have come before it.
   */
  async resume(): Promise<void> {
    const { pool, jsm, names } = this.o;
    const lastSeq = (await jsm.streams.info(names.stream)).state.last_seq;
    if (lastSeq === 0) return;
    const last = await jsm.streams.getMessage(names.stream, { seq: lastSeq }).catch(() => null);
    const lastId = last?.header?.get(OUTBOX_ID_HEADER);
    if (!lastId || !/^\d+$/.test(lastId)) return;
    const tombstones = await pool.query<OutboxRow>(
      `SELECT id, kind, key, municipality_id, school_id, purge_key FROM portal.outbox
        WHERE id <= $1::bigint AND purge_key IS NOT NULL ORDER BY id`,
      [lastId],
    );
    for (const r of tombstones.rows) {
      const subject = names.subject(r.municipality_id, r.school_id, r.kind, r.key);
      const stored = await jsm.streams
        .getMessage(names.stream, { last_by_subj: subject })
        .catch(() => null);
      if (stored) await this.purge(r.purge_key as string, stored.seq);
    }
    const { rowCount } = await pool.query("DELETE FROM portal.outbox WHERE id <= $1::bigint", [
      lastId,
    ]);
    this.counters.resumedRows += rowCount ?? 0;
  }

  /** Everything before the tombstone at `seq` on the pupil's subjects goes; the tombstone stays. */
  private async purge(portalId: string, seq: number): Promise<void> {
    await this.o.jsm.streams.purge(this.o.names.stream, {
      filter: this.o.names.pupilFilter(portalId),
      seq,
    });
    this.counters.purges++;
  }

  private async loop(where: string, step: () => Promise<number>): Promise<void> {
    while (!this.stopped && !this.lockLost) {
      let n = 0;
      try {
        n = await step();
      } catch (err) {
        this.o.onError?.(err, where);
        await sleep(500);
      }
      if (n === 0) await sleep(this.o.pollMs ?? 50);
    }
  }

  /** Snapshots for due dirty entries; returns how many entries it took. */
  async debounceOnce(): Promise<number> {
    const schema = liveSchema({ name: FEED_PROJECTION });
    const c = await this.o.pool.connect();
    try {
      // Read without locking: the projection keeps writing dirty entries meanwhile (a lock here
      // would hold its batches for the whole snapshot transaction). An entry is deleted at the
      // end only if its gen is unchanged, so a change during the snapshot makes another one.
      const due = await c.query<DueEntry>(
        `SELECT kind, key, gen::text AS gen, published_digest, recheck FROM portal.dirty
         WHERE due_at <= now() ORDER BY due_at LIMIT 1000`,
      );
      if (due.rows.length === 0) return 0;
      await c.query("BEGIN");
      const query = (text: string, params?: unknown[]) => c.query(text, params);
      const keep = new Set<string>();
      // Pupils with an enrollment still ahead: their entry is due again on its day.
      const ahead: { person_id: string; pending: Placement[] }[] = [];
      // Pupils whose snapshot is enqueued: the re-check each is due next (digest, which one).
      const recheckNext = new Map<string, { digest: string; recheck: number }>();
      const pupilIds = due.rows
        .filter((r) => r.kind === "pupil")
        .map((r) => r.key)
        .sort();
      if (pupilIds.length > 0) {
        // SKIP LOCKED: a pupil row a projection batch holds is left for the next round instead of
        // waited for. Waiting deadlocked (the batch, having marked the pupil dirty, wanted a row
        // this transaction had locked), and the batch is about to mark the pupil dirty again anyway.
        const locked = await c.query<
          PublishablePupil & { consent: boolean; erased: boolean; pending: Placement[] }
        >(
          `SELECT * FROM "${schema}".pupils WHERE person_id = ANY($1) ORDER BY person_id FOR UPDATE SKIP LOCKED`,
          [pupilIds],
        );
        // Enrollments recorded ahead take effect on their day (the region's): the pupil moves
        // now, before the snapshot; one still ahead keeps an entry due on its day (below).
        const today = regionToday();
        for (const p of locked.rows) {
          const { due, left } = duePlacement(p.pending ?? [], today);
          if (!due) continue;
          await c.query(
            `UPDATE "${schema}".pupils SET school_id = $2, municipality_id = $3, academic_year = $4,
               pending = $5 WHERE person_id = $1`,
            [
              p.person_id,
              due.school_id,
              due.municipality_id,
              due.academic_year,
              JSON.stringify(left),
            ],
          );
          Object.assign(p, {
            school_id: due.school_id,
            municipality_id: due.municipality_id,
            academic_year: due.academic_year,
            pending: left,
          });
        }
        ahead.push(...locked.rows.filter((p) => (p.pending ?? []).length > 0));
        const lockedIds = new Set(locked.rows.map((p) => p.person_id));
        const skipped = pupilIds.filter((id) => !lockedIds.has(id));
        if (skipped.length > 0) {
          // Those with a row were busy and stay dirty; those without one have nothing to publish.
          const busy = await c.query<{ person_id: string }>(
            `SELECT person_id FROM "${schema}".pupils WHERE person_id = ANY($1)`,
            [skipped],
          );
          for (const r of busy.rows) keep.add(r.person_id);
          this.counters.busy += busy.rows.length;
        }
        const publishable = locked.rows.filter(
          (p) => p.consent && !p.erased && p.portal_id && p.school_id && p.municipality_id,
        );
        const now = new Date();
        const snaps = this.o.performance
          ? await this.o.performance(publishable, now)
          : await pupilSnapshots(query, schema, publishable, now);
        // A pupil the source had no answer for keeps its dirty entry, due again later.
        const deferred = publishable.filter((p) => !snaps.has(p.person_id)).map((p) => p.person_id);
        // A snapshot the contract refuses (an internal record missing a field) is reported and
        // left out: one bad pupil must not stall everyone's feed.
        const valid = publishable.filter((p) => {
          if (!snaps.has(p.person_id)) return false;
          if (pupilPerformanceUpdatedSchema.safeParse(snaps.get(p.person_id)).success) return true;
          this.counters.invalid++;
          this.o.onError?.(
            new Error(`snapshot of pupil ${p.person_id} does not match portal.v1`),
            "snapshot",
          );
          return false;
        });
        // A re-check publishes only figures that changed since the snapshot it checks (the same
        // consent gate as a change: it is one, under the same row lock).
        const rechecks = new Map(
          due.rows.filter((r) => r.kind === "pupil" && r.published_digest).map((r) => [r.key, r]),
        );
        // Neither goes out when the pupil's subject already shows the same figures: its latest
        // message (what a subscriber keeps, a backfill gives, a replay ends with) is that snapshot.
        const shown = await lastPupilSnapshots(
          query,
          valid.map((p) => p.portal_id),
        );
        const fresh: PublishablePupil[] = [];
        const unchanged: PublishablePupil[] = [];
        for (const p of valid) {
          const digest = snapshotDigest(snaps.get(p.person_id) as PupilPerformanceData);
          const checked = rechecks.get(p.person_id);
          if (checked) this.counters.rechecks++;
          if (checked?.published_digest === digest) continue;
          // A change is re-checked also when its snapshot is left out: reporting may not have
          // applied the change yet.
          recheckNext.set(p.person_id, { digest, recheck: (checked?.recheck ?? 0) + 1 });
          if (shown.get(pupilSubjectKey(p.portal_id, p.municipality_id, p.school_id)) === digest) {
            unchanged.push(p);
            continue;
          }
          if (checked) this.counters.recheckPublished++;
          fresh.push(p);
        }
        this.counters.unchanged += unchanged.length;
        await enqueueMany(
          query,
          fresh.map((p) => ({
            type: "portal.v1.PupilPerformanceUpdated" as const,
            key: p.portal_id,
            schoolId: p.school_id,
            municipalityId: p.municipality_id,
            time: now,
            data: snaps.get(p.person_id),
          })),
        );
        await c.query(
          `UPDATE "${schema}".pupils SET published_schools = published_schools || jsonb_build_array(jsonb_build_array(municipality_id, school_id))
           WHERE person_id = ANY($1)
             AND NOT published_schools @> jsonb_build_array(jsonb_build_array(municipality_id, school_id))`,
          [[...fresh, ...unchanged].map((p) => p.person_id)],
        );
        this.counters.snapshots += fresh.length;
        if (deferred.length > 0) {
          await c.query(
            `UPDATE portal.dirty d SET due_at = now() + make_interval(secs => $2::float8 / 1000)
             FROM (SELECT key FROM portal.dirty WHERE kind = 'pupil' AND key = ANY($1)
                   ORDER BY key FOR UPDATE SKIP LOCKED) s
             WHERE d.kind = 'pupil' AND d.key = s.key`,
            [deferred, this.o.deferMs ?? 5000],
          );
          this.counters.deferred += deferred.length;
        }
        for (const id of deferred) keep.add(id);
      }
      for (const r of due.rows.filter((x) => x.kind === "programme")) {
        const data = await programmeSnapshot(query, schema, r.key);
        if (!data) continue;
        await enqueue(query, {
          type: "portal.v1.WorkProgrammeRevised",
          key: data.programmeId,
          schoolId: data.schoolId,
          municipalityId: data.municipalityId,
          time: new Date(),
          data,
        });
      }
      const done = due.rows.filter((r) => !(r.kind === "pupil" && keep.has(r.key)));
      // A pupil whose snapshot went to the outbox keeps its entry as the re-check, due after
      // recheckMs: in this table, it is as durable as the change was and moves with the lock to
      // another instance. A change meanwhile (gen bumped) already made the entry a change again.
      const recheckMs = this.o.recheckMs ?? 0;
      const isRecheck = (r: DueEntry) =>
        r.kind === "pupil" &&
        recheckMs > 0 &&
        (recheckNext.get(r.key)?.recheck ?? MAX_RECHECKS + 1) <= MAX_RECHECKS;
      const later = done.filter(isRecheck);
      const ended = done.filter((r) => !isRecheck(r));
      const entries = (rows: DueEntry[]) => [
        rows.map((r) => r.kind),
        rows.map((r) => r.key),
        rows.map((r) => r.gen),
      ];
      if (later.length > 0) {
        await c.query(
          `UPDATE portal.dirty d SET due_at = now() + make_interval(secs => $4::float8 / 1000),
             published_digest = ($5::text[])[s.i], recheck = ($6::int[])[s.i]
           FROM (${UNCHANGED_ENTRIES}) s WHERE d.kind = s.kind AND d.key = s.key`,
          [
            ...entries(later),
            recheckMs,
            later.map((r) => recheckNext.get(r.key)?.digest),
            later.map((r) => recheckNext.get(r.key)?.recheck),
          ],
        );
      }
      await c.query(
        `DELETE FROM portal.dirty d USING (${UNCHANGED_ENTRIES}) s
         WHERE d.kind = s.kind AND d.key = s.key`,
        entries(ended),
      );
      if (ahead.length > 0) {
        // Their change's entry is gone (or is a re-check due sooner): one for the day remains.
        await c.query(
          `INSERT INTO portal.dirty (kind, key, due_at)
           SELECT 'pupil', k, now() + make_interval(secs => s) FROM unnest($1::text[], $2::float8[]) AS u(k, s)
           ON CONFLICT (kind, key) DO NOTHING`,
          [
            ahead.map((p) => p.person_id),
            ahead.map((p) => msUntilDay((p.pending[0] as Placement).from) / 1000),
          ],
        );
      }
      await c.query("COMMIT");
      // Busy entries only: report nothing done, so the loop pauses instead of spinning on them.
      return done.length;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /**
   * Publishes up to 1,000 outbox rows; returns how many. Having lost its lock it publishes no
   * further message and leaves the purges and deletes of the step to whoever holds the lock
   * next (its resume finds the published rows by PORTAL's last message).
   */
  async publishOnce(): Promise<number> {
    const { pool } = this.o;
    const rows = (
      await pool.query<OutboxRow>(
        `SELECT id, event_id, type, kind, key, municipality_id, school_id, time, data::text AS data, purge_key
         FROM portal.outbox ORDER BY id LIMIT 1000`,
      )
    ).rows;
    if (rows.length === 0) return 0;
    const acks = await this.publishWhileLocked(rows);
    this.counters.published += acks.length;
    if (this.lockLost) return acks.length;
    for (const [i, r] of rows.entries()) {
      if (!r.purge_key) continue;
      const ack = acks[i];
      if (!ack) continue;
      await this.purge(r.purge_key, ack.seq);
    }
    const done = rows.slice(0, acks.length).map((r) => r.id);
    await pool.query("DELETE FROM portal.outbox WHERE id = ANY($1)", [done]);
    return acks.length;
  }

  /**
   * Publishes `rows` in order (pipelined: the server stores one connection's publishes in
   * order) until the lock is lost; the acks of those published. Before each message the event
   * loop turns once, so that the lock connection's end is heard before the message goes.
   */
  private async publishWhileLocked(rows: OutboxRow[]): Promise<PubAck[]> {
    const { js, names } = this.o;
    const acks: Promise<PubAck>[] = [];
    let failure: unknown;
    try {
      for (const r of rows) {
        await nextTurn();
        if (this.lockLost) break;
        acks.push(
          js.publish(
            names.subject(r.municipality_id, r.school_id, r.kind, r.key),
            encoder.encode(envelopeJson(r)),
            { msgID: r.event_id, headers: outboxHeaders(r.id) },
          ),
        );
        if (acks.length > IN_FLIGHT) await acks[acks.length - 1 - IN_FLIGHT];
      }
    } catch (err) {
      failure = err;
    }
    // Every publish awaited, even after a failed one: none left to reject unheard.
    const settled = await Promise.allSettled(acks);
    for (const x of settled) if (x.status === "rejected") throw x.reason;
    if (failure !== undefined) throw failure;
    return settled.map((x) => (x as PromiseFulfilledResult<PubAck>).value);
  }
}

function outboxHeaders(id: string) {
  const h = headers();
  h.set(OUTBOX_ID_HEADER, id);
  return h;
}

/** The CloudEvent JSON; attributes first, then the stored data text. */
function envelopeJson(r: OutboxRow): string {
  const attributes = JSON.stringify({
    specversion: "1.0",
    id: r.event_id,
    source: CLOUD_EVENT_SOURCE,
    type: r.type,
    subject: `${PORTAL_EVENTS[r.type].kind}/${r.key}`,
    time: new Date(r.time).toISOString(),
    datacontenttype: "application/json",
    dataschema: dataSchemaUrl(r.type),
  });
  return `${attributes.slice(0, -1)},"data":${r.data}}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
