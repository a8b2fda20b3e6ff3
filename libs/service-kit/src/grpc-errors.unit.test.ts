import net from "node:net";
import { Writable } from "node:stream";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DomainError, type DomainErrorKind } from "./domain-error.js";
import { toGrpcError, unaryHandler } from "./grpc-errors.js";
import { createLogger } from "./logger.js";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger({ service: "test", destination }), lines };
}

describe("domain error -> gRPC status", () => {
  it.each<[DomainErrorKind, status]>([
    ["invalid_argument", status.INVALID_ARGUMENT],
    ["failed_precondition", status.FAILED_PRECONDITION],
    ["conflict", status.ABORTED],
    ["unauthenticated", status.UNAUTHENTICATED],
    ["permission_denied", status.PERMISSION_DENIED],
    ["not_found", status.NOT_FOUND],
  ])("%s maps to status %i and keeps the message", (kind, code) => {
    const { logger, lines } = capturingLogger();
    const err = toGrpcError(new DomainError(kind, "mark: must be 2-5", { field: "mark" }), logger);
    expect(err.code).toBe(code);
    expect(err.details).toBe("mark: must be 2-5");
    expect(err.metadata?.get("field")).toEqual(["mark"]);
    expect(lines).toHaveLength(0);
  });

  it("masks internal errors for clients and logs them", () => {
    const { logger, lines } = capturingLogger();
    const err = toGrpcError(new Error("connection string postgres://secret"), logger);
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "error",
      err: { message: expect.stringContaining("secret") },
    });
  });

  it("unaryHandler answers with the result or the mapped status", async () => {
    const { logger } = capturingLogger();
    const handler = unaryHandler(logger, async (req: { n: number }) => {
      if (req.n < 0) throw new DomainError("invalid_argument", "n: must not be negative");
      return { doubled: req.n * 2 };
    });
    const call = (n: number) =>
      new Promise<[unknown, unknown]>((resolve) =>
        handler({ request: { n }, metadata: {} as never }, (err, res) => resolve([err, res])),
      );
    expect(await call(2)).toEqual([null, { doubled: 4 }]);
    const [err] = await call(-1);
    expect(err).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: "n: must not be negative",
    });
  });
});

describe("infrastructure failures -> UNAVAILABLE", () => {
  const refused = () =>
    new Promise<Error>((resolve) => {
      // A real refusal: a port that was free a moment ago.
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => {
          net.connect(port, "127.0.0.1").once("error", resolve);
        });
      });
    });

  it.each<[string, () => Promise<unknown>]>([
    ["a refused connection", refused],
    ["PostgreSQL shutting down (57P01)", async () => sqlError("57P01")],
    ["PostgreSQL starting up (57P03)", async () => sqlError("57P03")],
    ["a connection exception (08006)", async () => sqlError("08006")],
    ["pg's lost connection", async () => new Error("Connection terminated unexpectedly")],
    ["a refusal inside an AggregateError", async () => new AggregateError([await refused()])],
  ])("%s is UNAVAILABLE, logged as a warning", async (_what, make) => {
    const { logger, lines } = capturingLogger();
    const err = toGrpcError(await make(), logger);
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toBe("temporarily unavailable, retry");
    expect(lines).toMatchObject([{ level: "warn" }]);
  });

  it("keeps other database errors INTERNAL (a unique violation is a bug, not an outage)", () => {
    const { logger } = capturingLogger();
    expect(toGrpcError(sqlError("23505"), logger).code).toBe(status.INTERNAL);
  });
});

/** An error shaped as pg's DatabaseError with a SQLSTATE. */
function sqlError(code: string): Error {
  return Object.assign(new Error(`database error ${code}`), { code, severity: "FATAL" });
}
