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

  it("ends refresh families 30 days after login by default; never before a refresh token expires", () => {
    const c = loadIdentityConfig(keys);
    expect(c.IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS).toBe(30 * 24 * 3600);
    expect(
      loadIdentityConfig({
        ...keys,
        IDENTITY_REFRESH_TOKEN_TTL_SECONDS: "3600",
        IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS: "3600",
      }).IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS,
    ).toBe(3600);
    const refusal = (env: Record<string, string>) => {
      try {
        loadIdentityConfig({ ...keys, ...env });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    };
    const shorter = refusal({ IDENTITY_REFRESH_TOKEN_TTL_SECONDS: String(60 * 24 * 3600) });
    expect(shorter.variables).toEqual(["IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS"]);
    expect(shorter.message).toContain(
      "must be at least IDENTITY_REFRESH_TOKEN_TTL_SECONDS (5184000)",
    );
    const bad = refusal({ IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS: "30d" });
    expect(bad.variables).toEqual(["IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS"]);
    expect(bad.message).toContain("must be an integer 300-31536000");
  });
});
