import { describe, expect, it } from "vitest";
import { createLifecycle } from "./lifecycle.js";

describe("lifecycle", () => {
  it("closes resources in reverse order, once, and aborts its signal first", async () => {
    const lifecycle = createLifecycle();
    const closed: string[] = [];
    lifecycle.onShutdown("telemetry", () => closed.push("telemetry"));
    lifecycle.onShutdown("nats", async () => {
      await new Promise((r) => setTimeout(r, 10));
      closed.push("nats");
    });
    lifecycle.onShutdown("grpc", () => closed.push(`grpc (aborted: ${lifecycle.signal.aborted})`));
    await Promise.all([lifecycle.shutdown("SIGTERM"), lifecycle.shutdown("SIGINT")]);
    expect(closed).toEqual(["grpc (aborted: true)", "nats", "telemetry"]);
    expect(lifecycle.signal.reason).toBe("SIGTERM");
  });

  it("runs every closer even when one fails, then reports the failure", async () => {
    const lifecycle = createLifecycle();
    const closed: string[] = [];
    lifecycle.onShutdown("pool", () => closed.push("pool"));
    lifecycle.onShutdown("broken", () => {
      throw new Error("boom");
    });
    const stderr = process.stderr.write;
    process.stderr.write = () => true;
    try {
      await expect(lifecycle.shutdown("test")).rejects.toThrow("some resources failed to close");
    } finally {
      process.stderr.write = stderr;
    }
    expect(closed).toEqual(["pool"]);
  });

  it("closes at once what is opened after shutdown began", async () => {
    const lifecycle = createLifecycle();
    await lifecycle.shutdown("test");
    let closed = false;
    lifecycle.onShutdown("late", () => {
      closed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
  });
});
