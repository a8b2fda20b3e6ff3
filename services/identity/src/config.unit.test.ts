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

  it("serves the JWKS on 50061 with 10-minute tokens; a short bootstrap password is refused unseen", () => {
    const c = loadIdentityConfig(keys);
    expect(c.IDENTITY_HTTP_PORT).toBe(50061);
    expect(c.IDENTITY_ACCESS_TOKEN_TTL_SECONDS).toBe(600);
    expect(c.IDENTITY_BOOTSTRAP_ADMIN_USERNAME).toBe("admin");
    expect(c.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD).toBeUndefined();
    expect(c.AUTH_JWKS_URL).toBe("http://127.0.0.1:50061/.well-known/jwks.json");
    let err: ConfigError | undefined;
    try {
      loadIdentityConfig({ ...keys, IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: "tiny-secret" });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.variables).toEqual(["IDENTITY_BOOTSTRAP_ADMIN_PASSWORD"]);
    expect(err?.message).not.toContain("tiny-secret");
  });
});
