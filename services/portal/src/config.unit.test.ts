import { ConfigError } from "@otmetka/service-kit/config";
import { describe, expect, it } from "vitest";
import { loadPortalConfig, parseWebhooks } from "./config.js";

describe("portal config", () => {
  it("has defaults for a local run", () => {
    const c = loadPortalConfig({});
    expect(c.GRPC_PORT).toBe(50055);
    expect(c.DATABASE_URL).toBe("postgres://postgres@127.0.0.1:5432/otmetka_portal");
    expect(c.PORTAL_DEBOUNCE_MS).toBe(1000);
    expect(c.PORTAL_RECHECK_MS).toBe(5000);
    expect(loadPortalConfig({ PORTAL_RECHECK_MS: "0" }).PORTAL_RECHECK_MS).toBe(0);
    expect(c.IDENTITY_GRPC_ADDRESS).toBe("127.0.0.1:50051");
    expect(c.PORTAL_WEBHOOKS).toBeUndefined();
  });

  it("reads webhook subscribers", () => {
    expect(parseWebhooks("gosuslugi|https://portal.example/hook|0123456789abcdef0")).toEqual([
      { subscriber: "gosuslugi", url: "https://portal.example/hook", secret: "0123456789abcdef0" },
    ]);
    expect(parseWebhooks("Bad Name|https://x.example|0123456789abcdef0")).toBeUndefined();
    expect(parseWebhooks("ok|ftp://x.example|0123456789abcdef0")).toBeUndefined();
    expect(parseWebhooks("ok|https://x.example|short")).toBeUndefined();
  });

  it("names the bad variable", () => {
    const err = (() => {
      try {
        loadPortalConfig({
          PORTAL_DEBOUNCE_MS: "-1",
          PORTAL_RECHECK_MS: "600001",
          PORTAL_WEBHOOKS: "x",
        });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/PORTAL_DEBOUNCE_MS/);
    expect(String((err as Error).message)).toMatch(/PORTAL_RECHECK_MS/);
    expect(String((err as Error).message)).toMatch(/PORTAL_WEBHOOKS/);
  });
});
