import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { setUpBenchJournals } from "@otmetka/grades/bench";
import { MarkValue } from "@otmetka/proto/grades/events/v1/events";
import {
  GradesServiceClient,
  GradesServiceService,
  RecordMarkRequest,
} from "@otmetka/proto/grades/v1/grades_service";
import { CLIENT_CHANNEL_DEFAULTS } from "@otmetka/service-kit";
import type { TestTokenIssuer } from "@otmetka/testing";
import { H2Unary } from "./h2-unary.js";

const RECORD_MARK_PATH = GradesServiceService.recordMark.path;

type BenchSchool = Awaited<ReturnType<typeof setUpBenchJournals>>;

/**
 * A gRPC client of grades at `port` and a single-mark `RecordMark` (a four, oral answer) on
 * journal number `target` as the school's teacher, rotating over its lessons and pupils:
 * through grpc-js's generated client, or with `transport: "h2"` through the bench's lean
 * HTTP/2 caller (`h2-unary.ts`: the same request bytes and token, a fraction of the CPU).
 */
export async function markClient(
  port: number,
  issuer: TestTokenIssuer,
  school: BenchSchool,
  transport: "grpc-js" | "h2" = "grpc-js",
) {
  const client = new GradesServiceClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    // The services' client defaults, and the load generator's own retry bookkeeping off:
    // a failed call is counted as failed, not retried.
    { ...CLIENT_CHANNEL_DEFAULTS, "grpc.enable_retries": 0 },
  );
  const token = await issuer.sign({
    roles: [`TEACHER@school:${school.schoolId}`],
    pid: school.teacherId,
    expiresInSeconds: 3600,
  });
  const md = issuer.metadataFor(token);
  const lean =
    transport === "h2"
      ? new H2Unary(`127.0.0.1:${port}`, { authorization: `Bearer ${token}` })
      : undefined;
  let n = 0;
  // The generated method with a callback: no promise-wrapping proxy in the measured path.
  const recordMark = (target: number): Promise<void> => {
    const j = school.journals[target]!;
    n++;
    const request = {
      commandId: randomUUID(),
      journal: j.journal,
      lessonId: j.lessonIds[n % j.lessonIds.length]!,
      mark: {
        studentId: j.pupils[n % j.pupils.length]!,
        value: MarkValue.MARK_VALUE_FOUR,
        workType: "ORAL",
        comment: "",
      },
    };
    if (lean) return lean.call(RECORD_MARK_PATH, RecordMarkRequest.encode(request).finish());
    return new Promise((resolve, reject) => {
      client.recordMark(request, md, (err) => (err ? reject(err) : resolve()));
    });
  };
  return {
    client,
    recordMark,
    close() {
      client.close();
      lean?.close();
    },
  };
}

/**
 * The journals (targets 0..journals-1) of each of `writers` concurrent writers: writer w owns
 * the targets t with t % writers === w, so no two calls in flight race for one journal's
 * version (on the RecordMark side and on the raw append side alike). Fewer journals than
 * writers would leave writers without one: refused with the knob to raise.
 */
export function writerTargets(journals: number, writers: number, knob: string): number[][] {
  if (!Number.isInteger(journals) || journals < writers) {
    throw new Error(
      `${knob}=${journals}: needs at least ${writers} journals, one per call in flight (each writer owns its journals)`,
    );
  }
  return Array.from({ length: writers }, (_, w) =>
    Array.from({ length: journals }, (_, t) => t).filter((t) => t % writers === w),
  );
}
