import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ProvisioningTimeout } from "./errors.js";
import { messagingNames } from "./names.js";
import { DEFAULT_DUPLICATE_WINDOW_MS, ensureStream } from "./provisioning.js";
import { losingAnswers } from "./test-support/losing-answers.js";

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

/**
 * `jsm` with the race between instances made to happen: just before our `streams.add`, another
 * instance (its own connection) creates the stream with other settings, so JetStream refuses
 * ours ("stream name already in use"); the next `notYet` infos answer "stream not found", as a
 * cluster's meta leader does until it has applied that creation.
 */
function racedBy(jsm: JetStreamManager, otherCreates: () => Promise<unknown>, notYet: number) {
  const real = jsm.streams;
  const seen: { refusal?: unknown } = {};
  let added = false;
  const streams = new Proxy(real, {
    get(target, prop) {
      if (prop === "add") {
        return async (config: Parameters<typeof real.add>[0]) => {
          await otherCreates();
          added = true;
          return target.add(config).catch((err: unknown) => {
            seen.refusal = err;
            throw err;
          });
        };
      }
      if (prop === "info") {
        return async (...args: Parameters<typeof real.info>) => {
          if (added && notYet-- > 0) {
            throw new JetStreamApiError({
              code: 404,
              err_code: JetStreamApiCodes.StreamNotFound,
              description: "stream not found",
            });
          }
          return target.info(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const raced = new Proxy(jsm, {
    get: (target, prop) => (prop === "streams" ? streams : Reflect.get(target, prop, target)),
  });
  return { jsm: raced, seen };
}

it("an instance that loses the creation race waits until the stream is known, then updates it", async () => {
  const spec = messagingNames(env.natsPrefix).contextStream("attendance");
  const other = await connect({ servers: env.natsUrl });
  try {
    const otherJsm = await jetstreamManager(other);
    let theirs: Awaited<ReturnType<typeof ensureStream>> | undefined;
    const { jsm, seen } = racedBy(
      await jetstreamManager(nc),
      async () => {
        theirs = await ensureStream(otherJsm, { ...spec, duplicateWindowMs: 1000 });
      },
      3,
    );
    const ours = await ensureStream(jsm, spec);
    expect(seen.refusal).toMatchObject({ code: 10058 }); // the race happened: ours was refused
    expect(ours.created).toEqual(theirs?.created); // theirs, not re-created
    expect(ours.config.duplicate_window).toBe(DEFAULT_DUPLICATE_WINDOW_MS * 1_000_000);
  } finally {
    await other.close();
  }
});

it("a refused creation of a stream that never turns up fails with JetStream's reason", async () => {
  const jsm = await jetstreamManager(nc);
  const subjects = [`${env.natsPrefix}.overlap.>`];
  await ensureStream(jsm, { name: `${env.natsPrefix}_OVERLAP_A`, subjects });
  const refused = ensureStream(jsm, { name: `${env.natsPrefix}_OVERLAP_B`, subjects });
  await expect(refused).rejects.toBeInstanceOf(JetStreamApiError);
  await expect(refused).rejects.toThrow(/overlap/);
});

it("asks again when an info, a creation or an update gets no answer, creating the stream once", async () => {
  const spec = messagingNames(env.natsPrefix).contextStream("timeouts");
  const real = await jetstreamManager(nc);
  // First info unanswered; the creation goes through but its answer is lost.
  const first = losingAnswers(real, "streams", { info: ["dropped"], add: ["sent"] });
  const created = await ensureStream(first.jsm, spec);
  expect(first.calls).toEqual({ info: 2, add: 2 });
  expect(created.config.subjects).toEqual(spec.subjects);
  // The update goes through but its answer is lost: the same update again.
  const second = losingAnswers(real, "streams", { update: ["sent", "dropped"] });
  const updated = await ensureStream(second.jsm, { ...spec, duplicateWindowMs: 1000 });
  expect(second.calls).toEqual({ info: 1, update: 3 });
  expect(updated.created).toEqual(created.created); // one stream, never re-created
  expect(updated.config.duplicate_window).toBe(1_000_000_000);
});

it("fails naming the stream and the request when JetStream never answers", async () => {
  const spec = messagingNames(env.natsPrefix).contextStream("silent");
  const silent = losingAnswers(await jetstreamManager(nc), "streams", {
    info: Array(9).fill("dropped"),
  });
  const failed = await ensureStream(silent.jsm, spec).catch((err: unknown) => err);
  expect(failed).toBeInstanceOf(ProvisioningTimeout);
  expect((failed as Error).message).toBe(
    `no answer from JetStream to the info of stream ${spec.name} in 4 tries`,
  );
  expect(silent.calls).toEqual({ info: 4 }); // bounded, and nothing created meanwhile
});
