import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { setUpBenchJournals } from "@otmetka/grades/bench";
import { MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { GradesServiceClient } from "@otmetka/proto/grades/v1/grades_service";
import { promiseClient } from "@otmetka/service-kit";
import type { TestTokenIssuer } from "@otmetka/testing";

type BenchSchool = Awaited<ReturnType<typeof setUpBenchJournals>>;

/**
 * A gRPC client of grades at `port` and a single-mark `RecordMark` (a four, oral answer) on
 * journal number `target` as the school's teacher, rotating over its lessons and pupils.
 */
export async function markClient(port: number, issuer: TestTokenIssuer, school: BenchSchool) {
  const client = new GradesServiceClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    // The load generator's own bookkeeping, not the service's: off.
    { "grpc.enable_channelz": 0 },
  );
  const call = promiseClient(client);
  const token = await issuer.sign({
    roles: [`TEACHER@school:${school.schoolId}`],
    pid: school.teacherId,
    expiresInSeconds: 3600,
  });
  const md = issuer.metadataFor(token);
  let n = 0;
  const recordMark = async (target: number): Promise<void> => {
    const j = school.journals[target]!;
    n++;
    await call.recordMark(
      {
        commandId: randomUUID(),
        journal: j.journal,
        lessonId: j.lessonIds[n % j.lessonIds.length]!,
        mark: {
          studentId: j.pupils[n % j.pupils.length]!,
          value: MarkValue.MARK_VALUE_FOUR,
          workType: "ORAL",
          comment: "",
        },
      },
      md,
    );
  };
  return { client, recordMark };
}
