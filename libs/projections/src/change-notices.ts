import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "@otmetka/messaging";
import type { ChangedItem } from "./apply-batch.js";
import { noticeSubject } from "./names.js";

/** Body of a change notice: what changed and the checkpoints of the batch that changed it. */
export interface ChangeNotice {
  projection: string;
  kind: string;
  id: string;
  /** Per source, the sequence the read model had reached when the change was committed. */
  checkpoints: Record<string, number>;
}

const encoder = new TextEncoder();

/** Core NATS, fire and forget: one message per changed item of a committed batch. */
export function publishChangeNotices(
  nc: NatsConnection,
  names: MessagingNames,
  context: string,
  projection: string,
  changed: readonly ChangedItem[],
  checkpoints: ReadonlyMap<string, number>,
): void {
  if (changed.length === 0) return;
  const cps = Object.fromEntries(checkpoints);
  for (const c of changed) {
    const body: ChangeNotice = { projection, kind: c.kind, id: c.id, checkpoints: cps };
    nc.publish(noticeSubject(names, context, c.kind, c.id), encoder.encode(JSON.stringify(body)));
  }
}
