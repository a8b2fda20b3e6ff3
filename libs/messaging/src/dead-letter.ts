import type { JetStreamClient, JetStreamManager, JsMsg, MsgRequest } from "@nats-io/jetstream";
import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import type { MessagingNames } from "./names.js";
import { streamKey } from "./subjects.js";

/** Headers the runtime adds to a dead-lettered message (beside the original envelope). */
export const DLQ = {
  reason: "Otmetka-Dead-Letter-Reason",
  error: "Otmetka-Error",
  attempts: "Otmetka-Attempts",
  consumer: "Otmetka-Consumer",
  originalSubject: "Otmetka-Original-Subject",
  originalSequence: "Otmetka-Original-Sequence",
} as const;

/** `poison`: the handler failed on it; `parked`: queued behind a poison event of its stream. */
export type DeadLetterReason = "poison" | "parked";

export interface DeadLetterInfo {
  durable: string;
  streamId: string;
  reason: DeadLetterReason;
  error?: string;
  attempts?: number;
}

/**
 * Copies a message to the dead-letter stream with why it is there. Deduplicated by
 * consumer + event id (a crash between this and the ack re-sends it).
 */
export async function deadLetter(
  js: JetStreamClient,
  names: MessagingNames,
  msg: Pick<JsMsg, "headers" | "data" | "subject" | "seq">,
  eventId: string,
  info: DeadLetterInfo,
): Promise<number> {
  const h: MsgHdrs = natsHeaders();
  for (const [k, values] of msg.headers ?? []) {
    if (k === "Nats-Msg-Id" || k.startsWith("Nats-Expected")) continue;
    for (const v of values) h.append(k, v);
  }
  h.set(DLQ.reason, info.reason);
  h.set(DLQ.consumer, info.durable);
  h.set(DLQ.originalSubject, msg.subject);
  h.set(DLQ.originalSequence, String(msg.seq));
  if (info.error) h.set(DLQ.error, info.error.replace(/[\r\n]+/g, " ").slice(0, 2000));
  if (info.attempts) h.set(DLQ.attempts, String(info.attempts));
  const ack = await js.publish(
    names.deadLetterSubject(info.durable, streamKey(info.streamId)),
    msg.data,
    { headers: h, msgID: `${info.durable}:${eventId}` },
  );
  return ack.seq;
}

export interface DeadLetteredMessage {
  seq: number;
  subject: string;
  headers: MsgHdrs;
  data: Uint8Array;
  reason: DeadLetterReason;
}

/** The dead-lettered messages of one aggregate stream under one consumer, in order. */
export async function readDeadLetters(
  jsm: JetStreamManager,
  names: MessagingNames,
  durable: string,
  streamId: string,
): Promise<DeadLetteredMessage[]> {
  const subject = names.deadLetterSubject(durable, streamKey(streamId));
  const out: DeadLetteredMessage[] = [];
  let seq = 1;
  for (;;) {
    let m: Awaited<ReturnType<typeof jsm.streams.getMessage>>;
    try {
      // STREAM.MSG.GET takes next_by_subj since server 2.9; nats.js types only list it for direct gets.
      const query = { seq, next_by_subj: subject } as unknown as MsgRequest;
      m = await jsm.streams.getMessage(names.deadLetterStream.name, query);
    } catch (err) {
      if ((err as { code?: number }).code === 10037) break; // no more
      throw err;
    }
    if (!m) break;
    out.push({
      seq: m.seq,
      subject: m.subject,
      headers: m.header,
      data: m.data,
      reason: (m.header.get(DLQ.reason) || "parked") as DeadLetterReason,
    });
    seq = m.seq + 1;
  }
  return out;
}
