import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { type Checkpoint, START } from "@otmetka/eventstore";
import { H } from "./envelope.js";

/** Where the relay goes on: after `checkpoint`, publishing stream sequence `lastSequence + 1`. */
export interface ResumePoint {
  checkpoint: Checkpoint;
  lastSequence: number;
}

/**
 * Reads the JetStream stream's last message written by the relay and returns its log
 * checkpoint. Messages written by `republish` (and deleted ones) are stepped over: the relay
 * writes in log order, so its last message holds the furthest checkpoint.
 */
export async function readResumePoint(jsm: JetStreamManager, stream: string): Promise<ResumePoint> {
  const info = await jsm.streams.info(stream);
  const lastSequence = info.state.last_seq;
  const first = Math.max(1, info.state.first_seq);
  for (let seq = lastSequence; seq >= first && seq > 0; seq--) {
    let msg: Awaited<ReturnType<typeof jsm.streams.getMessage>>;
    try {
      msg = await jsm.streams.getMessage(stream, { seq });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound)
        continue; // deleted
      throw err;
    }
    if (!msg || msg.header.get(H.republished)) continue;
    const checkpoint = msg.header.get(H.logCheckpoint);
    if (checkpoint) return { checkpoint: checkpoint as Checkpoint, lastSequence };
  }
  return { checkpoint: START, lastSequence };
}
