import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { whileStreamNotYetKnown } from "./provisioning.js";

// The answers a JetStream API request gets; the cluster race itself is in provisioning-cluster.
const notFound = () =>
  new JetStreamApiError({
    code: 404,
    err_code: JetStreamApiCodes.StreamNotFound,
    description: "stream not found",
  });

describe("whileStreamNotYetKnown", () => {
  it("asks again while the answer is 'stream not found', then returns the answer", async () => {
    let calls = 0;
    const result = await whileStreamNotYetKnown(async () => {
      calls++;
      if (calls < 3) throw notFound();
      return "info";
    });
    expect([result, calls]).toEqual(["info", 3]);
  });

  it("passes any other error on at once", async () => {
    let calls = 0;
    const other = new JetStreamApiError({ code: 400, err_code: 10058, description: "in use" });
    await expect(
      whileStreamNotYetKnown(async () => {
        calls++;
        throw other;
      }),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
  });

  it("gives up after ten answers of 'stream not found' (about 2 s): a stream that is gone", async () => {
    let calls = 0;
    await expect(
      whileStreamNotYetKnown(async () => {
        calls++;
        throw notFound();
      }),
    ).rejects.toMatchObject({ code: JetStreamApiCodes.StreamNotFound });
    expect(calls).toBe(10);
  });
});
