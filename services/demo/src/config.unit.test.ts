import { ConfigError } from "@otmetka/service-kit/config";
import { describe, expect, it } from "vitest";
import { loadDemoConfig } from "./config.js";

describe("demo config", () => {
  it("listens on 50050 and the local NATS by default", () => {
    const config = loadDemoConfig({});
    expect(config).toMatchObject({ GRPC_PORT: 50050, NATS_URL: "nats://127.0.0.1:4222" });
    expect(config.NATS_PREFIX).toBeUndefined();
  });

  it("rejects a bad port", () => {
    expect(() => loadDemoConfig({ GRPC_PORT: "0" })).toThrow(ConfigError);
  });
});
