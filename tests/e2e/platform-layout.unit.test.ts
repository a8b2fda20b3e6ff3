import { expect, it } from "vitest";

// scripts/ is plain ESM without types: imported by a computed path so tsc does not resolve it.
const layoutPath = new URL("../../scripts/platform/layout.mjs", import.meta.url).href;
// biome-ignore lint/suspicious/noExplicitAny: untyped .mjs module
const { platformLayout }: any = await import(layoutPath);

it("npm start's defaults: .otmetka/, otmetka_<service> databases, the documented ports", () => {
  const l = platformLayout({});
  expect(l.stateDir).toMatch(/\.otmetka$/);
  expect(l.dbPrefix).toBe("otmetka");
  expect(l.graphqlUrl).toBe("http://127.0.0.1:4000/graphql");
  expect(l.jwksUrl).toBe("http://127.0.0.1:50061/.well-known/jwks.json");
  expect(l.portEnv("identity")).toEqual({ GRPC_PORT: "50051", IDENTITY_HTTP_PORT: "50061" });
  expect(l.portEnv("gateway")).toEqual({ HTTP_PORT: "4000" });
  expect(l.addresses.GRADES_GRPC_ADDRESS).toBe("127.0.0.1:50053");
});

it("a second platform moves every port by one offset and names its own state and databases", () => {
  const l = platformLayout({
    OTMETKA_PORT_OFFSET: "1000",
    OTMETKA_STATE_DIR: "/tmp/x",
    OTMETKA_DB_PREFIX: "otmetka_t_1",
  });
  expect(l.stateDir).toBe("/tmp/x");
  expect(l.dbPrefix).toBe("otmetka_t_1");
  expect(l.graphqlUrl).toBe("http://127.0.0.1:5000/graphql");
  expect(l.portEnv("reporting")).toEqual({ GRPC_PORT: "51054" });
  expect(l.addresses.IDENTITY_GRPC_ADDRESS).toBe("127.0.0.1:51051");
  expect(() => platformLayout({ OTMETKA_PORT_OFFSET: "20000" })).toThrow(/OTMETKA_PORT_OFFSET/);
  expect(() => platformLayout({ OTMETKA_DB_PREFIX: "Bad-Name" })).toThrow(/OTMETKA_DB_PREFIX/);
});
