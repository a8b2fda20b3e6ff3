import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { ProvisioningTimeout } from "./errors.js";
import { PROVISIONING_TRIES, provisioningRequest } from "./provisioning.js";

// The answers a JetStream API request gets; the cluster race itself is in provisioning-cluster.
const notFound = () =>
  new JetStreamApiError({
    code: 404,
    err_code: JetStreamApiCodes.StreamNotFound,
    description: "stream not found",
  });

/** A request failing with `failures` in turn, then answering "info"; counts its calls. */
function answering(...failures: Error[]) {
  const r = { calls: 0 };
  const request = async () => {
    const failure = failures[r.calls++];
    if (failure) throw failure;
    return "info";
  };
  return Object.assign(r, { request });
}

describe("provisioningRequest", () => {
  it("asks again while the answer is 'stream not found' when untilKnown, then returns the answer", async () => {
    const r = answering(notFound(), notFound());
    const result = await provisioningRequest("S", "info", r.request, { untilKnown: true });
    expect([result, r.calls]).toEqual(["info", 3]);
  });

  it("passes 'stream not found' on at once without untilKnown", async () => {
    const r = answering(notFound());
    await expect(provisioningRequest("S", "info", r.request)).rejects.toMatchObject({
      code: JetStreamApiCodes.StreamNotFound,
    });
    expect(r.calls).toBe(1);
  });

  it("passes any other error on at once", async () => {
    const other = new JetStreamApiError({ code: 400, err_code: 10058, description: "in use" });
    const r = answering(other);
    await expect(provisioningRequest("S", "add", r.request, { untilKnown: true })).rejects.toBe(
      other,
    );
    expect(r.calls).toBe(1);
  });

  it("gives up after ten answers of 'stream not found' (about 2 s): a stream that is gone", async () => {
    const r = answering(...Array.from({ length: 20 }, notFound));
    await expect(
      provisioningRequest("S", "update", r.request, { untilKnown: true }),
    ).rejects.toMatchObject({ code: JetStreamApiCodes.StreamNotFound });
    expect(r.calls).toBe(10);
  });

  it("asks again after a request timed out, also between 'stream not found' answers", async () => {
    const r = answering(new TimeoutError(), notFound(), new TimeoutError());
    const result = await provisioningRequest("S", "info", r.request, { untilKnown: true });
    expect([result, r.calls]).toEqual(["info", 4]);
  });

  it("after 4 timeouts (0.25 + 0.5 + 1 s of pauses) fails naming the stream and the operation", async () => {
    const r = answering(...Array.from({ length: 10 }, () => new TimeoutError()));
    const started = Date.now();
    const failed = provisioningRequest("p_GRADES", "add", r.request).catch((err: unknown) => err);
    const err = await failed;
    expect(err).toBeInstanceOf(ProvisioningTimeout);
    expect(err).toMatchObject({ stream: "p_GRADES", operation: "add", tries: PROVISIONING_TRIES });
    expect((err as Error).message).toBe(
      "no answer from JetStream to the add of stream p_GRADES in 4 tries",
    );
    expect((err as Error).cause).toBeInstanceOf(TimeoutError);
    expect(r.calls).toBe(PROVISIONING_TRIES);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_700);
  });
});
