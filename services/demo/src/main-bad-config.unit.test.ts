import { describe, expect, it } from "vitest";
import { startDemoProcess } from "./test-support/demo-process.js";

// Each case starts a real process (a few seconds here), so they run side by side. That every
// bad variable is named at once is shown by the service kit's config tests.
// Start-up must stop on bad configuration before touching any server, with one message that
// names the variable and no stack trace (an operator reads it, not a developer).
describe("demo start-up with bad configuration", () => {
  it.concurrent.each([
    [{ NATS_URL: "not-a-url" }, "NATS_URL"],
    [{ GRPC_PORT: "70000" }, "GRPC_PORT"],
    [{ GRPC_PORT: "abc" }, "GRPC_PORT"],
  ])("%o exits non-zero naming %s", async (env, variable) => {
    const demo = startDemoProcess(env);
    const { code } = await demo.exited;
    expect(code).not.toBe(0);
    expect(demo.stderr).toMatch(new RegExp(`^  ${variable}: must be `, "m"));
    expect(demo.stderr).toContain(`(got "${Object.values(env)[0]}")`);
    expect(demo.stderr).not.toMatch(/\n\s+at /);
    expect(demo.stdout).toBe("");
  });
});
