import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { callMetadata } from "./grpc-call-metadata.js";

describe("callMetadata", () => {
  it("takes the actor, correlation id and trace context from the headers", () => {
    const md = new Metadata();
    md.set("x-actor-id", "staff-1");
    md.set("x-correlation-id", "corr-9");
    md.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(callMetadata(md)).toEqual({
      actor: { id: "staff-1", kind: "user" },
      correlationId: "corr-9",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
  });

  it("leaves out what is absent or empty", () => {
    const md = new Metadata();
    md.set("x-actor-id", "");
    expect(callMetadata(md)).toEqual({});
  });
});
