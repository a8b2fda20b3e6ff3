import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureStream, type MessagingNames } from "@otmetka/messaging";

/** The source streams exist before the projection's consumers are made (whoever starts first). */
export async function ensureSourceStreams(
  nc: NatsConnection,
  names: MessagingNames,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const ctx of ["identity", "curriculum", "grades"] as const)
    await ensureStream(jsm, names.contextStream(ctx));
}
