import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { messagingNames } from "./names.js";
import { DEFAULT_DUPLICATE_WINDOW_MS, ensureStream } from "./provisioning.js";

const env = useTestEnvironment({ label: "messaging_provisioning" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

it("creates a context stream once, leaves it alone when it matches, updates it when settings differ", async () => {
  const jsm = await jetstreamManager(nc);
  const spec = messagingNames(env.natsPrefix).contextStream("grades");
  expect(spec.name).toBe(`${env.natsPrefix}_GRADES`);
  expect(spec.subjects).toEqual([`${env.natsPrefix}.grades.>`]);

  const created = await ensureStream(jsm, spec);
  expect(created.config).toMatchObject({
    storage: "file",
    max_age: 0,
    subjects: spec.subjects,
    duplicate_window: DEFAULT_DUPLICATE_WINDOW_MS * 1_000_000,
  });
  const again = await Promise.all([ensureStream(jsm, spec), ensureStream(jsm, spec)]);
  for (const info of again) expect(info.created).toEqual(created.created);

  const updated = await ensureStream(jsm, { ...spec, duplicateWindowMs: 1000 });
  expect(updated.created).toEqual(created.created); // same stream, not re-created
  expect(updated.config.duplicate_window).toBe(1_000_000_000);
});
