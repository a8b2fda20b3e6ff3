import { describe, expect, it } from "vitest";
import { EventEnvelope } from "./gen/otmetka/common/v1/event_envelope.js";
import { DemoServiceService, SendGreetingRequest } from "./gen/otmetka/demo/v1/demo_service.js";

describe("generated code", () => {
  it("round-trips a message through the wire format, int64 as string", () => {
    const envelope = EventEnvelope.fromPartial({
      id: "0190f1e2-0000-7000-8000-000000000001",
      type: "demo.v1.GreetingSent",
      streamVersion: "9007199254740993",
      data: Buffer.from('{"text":"hi"}'),
    });
    const decoded = EventEnvelope.decode(EventEnvelope.encode(envelope).finish());
    expect(decoded.streamVersion).toBe("9007199254740993");
    expect(Buffer.from(decoded.data).toString()).toBe('{"text":"hi"}');
  });

  it("describes the gRPC service for @grpc/grpc-js", () => {
    const method = DemoServiceService.sendGreeting;
    expect(method.path).toBe("/otmetka.demo.v1.DemoService/SendGreeting");
    const req = SendGreetingRequest.fromPartial({ text: "hi", academicYear: { startYear: 2026 } });
    expect(method.requestDeserialize(method.requestSerialize(req))).toEqual(req);
  });
});
