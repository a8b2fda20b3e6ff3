import type { Harness } from "./harness.js";

/** A change notice as published: what changed (`journal`, `diary`, `dashboard-<level>`) and its id. */
export interface Notice {
  kind: string;
  id: string;
}

/** The change notices that arrive while `act` runs and reporting catches up. */
export async function noticesDuring(h: Harness, act: () => Promise<void>): Promise<Notice[]> {
  const sub = h.nc.subscribe(`${h.names.eventRoot("reporting")}.changed.>`);
  const seen: Notice[] = [];
  const done = (async () => {
    for await (const m of sub) {
      const { kind, id } = m.json<Notice>();
      seen.push({ kind, id });
    }
  })();
  await act();
  await h.caughtUp();
  // Notices follow the batch's commit: give the last one a moment.
  await new Promise((r) => setTimeout(r, 300));
  sub.unsubscribe();
  await done;
  return seen;
}

/** The distinct ids of the notices of one kind among `notices`, sorted. */
export const idsOf = (notices: Notice[], kind: string) =>
  [...new Set(notices.filter((n) => n.kind === kind).map((n) => n.id))].sort();
