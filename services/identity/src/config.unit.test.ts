import { randomBytes } from "node:crypto";
import { ConfigError } from "@otmetka/service-kit/config";
import { describe, expect, it } from "vitest";
import { DEFAULT_DATABASE_URL, loadIdentityConfig } from "./config.js";

const keys = {
  IDENTITY_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
  IDENTITY_BLIND_INDEX_KEY: randomBytes(32).toString("base64"),
};

describe("identity config", () => {
  it("has local defaults: port 50051, database otmetka_identity, region 74", () => {
    const c = loadIdentityConfig(keys);
    expect(c.GRPC_PORT).toBe(50051);
    expect(c.DATABASE_URL).toBe(DEFAULT_DATABASE_URL);
    expect(c.IDENTITY_MASTER_KEYS.active.id).toBe("k1");
    expect(c.IDENTITY_REGION_ID).toBe("74");
  });
  it("names a missing or bad key variable without echoing the secret", () => {
    const err = (() => {
      try {
        loadIdentityConfig({
          IDENTITY_MASTER_KEYS: "k1:c2VjcmV0LXNob3J0",
          IDENTITY_BLIND_INDEX_KEY: "",
        });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.variables).toEqual(["IDENTITY_MASTER_KEYS", "IDENTITY_BLIND_INDEX_KEY"]);
    expect(err.message).not.toContain("c2VjcmV0LXNob3J0");
  });
});
