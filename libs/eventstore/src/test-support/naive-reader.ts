import type pg from "pg";

/**
 * The classic, wrong way to follow a log: remember the highest position seen and ask for
 * rows above it. A transaction that took a position earlier but commits later lands below
 * the remembered position and is never read. Kept to prove that the suite catches it.
 */
export async function readAfterPosition(
  pool: pg.Pool,
  after: number,
  limit: number,
): Promise<Array<{ position: number; eventId: string }>> {
  const { rows } = await pool.query<{ position: string; event_id: string }>(
    "SELECT position, event_id FROM eventstore.events WHERE position > $1 ORDER BY position LIMIT $2",
    [after, limit],
  );
  return rows.map((r) => ({ position: Number(r.position), eventId: r.event_id }));
}
