// A steady load of single marks through grades' gRPC API: one client per journal, each mark
// retried with its own command id until answered (a retry after a lost answer is a replay).
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import {
  GradesServiceClient,
  type RecordMarkResponse,
} from "@otmetka/proto/grades/v1/grades_service";
import type { TestTokenIssuer } from "@otmetka/testing";
import { type Journal, YEAR } from "./school.js";

// Retryable: the server is down or restarting, or a dependency of it is.
const RETRYABLE = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.ABORTED,
  grpc.status.CANCELLED,
]);

export interface MarkLoad {
  /** Mark ids grades answered with: each is committed in its log. */
  readonly acked: Set<string>;
  /** Calls that failed and were retried with the same command id. */
  readonly retries: number;
  /** Answers that were replays of an earlier, committed attempt. */
  readonly replays: number;
  /**
   * Resolves once every journal's client has had `n` more marks answered (from now): the load
   * flows through every client, also after a fault. Rejects after `timeoutMs`, or at once if
   * a client gave up.
   */
  eachAnswered(n: number, timeoutMs?: number): Promise<void>;
  /** Stops sending; resolves once every started mark is answered. */
  stop(): Promise<void>;
}

export async function startMarkLoad(o: {
  address: string;
  issuer: TestTokenIssuer;
  journals: Journal[];
  /** Pause between one client's marks (ms). */
  intervalMs: number;
  acked?: Set<string>;
}): Promise<MarkLoad> {
  // Reconnect fast after a restart: the default backoff grows to minutes.
  const client = new GradesServiceClient(o.address, grpc.credentials.createInsecure(), {
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 500,
  });
  const acked = o.acked ?? new Set<string>();
  let retries = 0;
  let replays = 0;
  let stopping = false;
  let failed: unknown;
  // Marks answered per client (index into o.journals).
  const answered = o.journals.map(() => 0);
  const tokens = new Map<string, grpc.Metadata>();
  for (const j of o.journals)
    tokens.set(
      j.teacher,
      o.issuer.metadataFor(
        await o.issuer.sign({
          roles: [`TEACHER@school:${j.schoolId}`],
          pid: j.teacher,
          expiresInSeconds: 3600,
        }),
      ),
    );
  const call = (req: Parameters<GradesServiceClient["recordMark"]>[0], md: grpc.Metadata) =>
    new Promise<RecordMarkResponse>((resolve, reject) =>
      client.recordMark(req, md, { deadline: Date.now() + 5000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  const worker = async (j: Journal, w: number) => {
    for (let k = 0; !stopping; k++) {
      const req = {
        commandId: randomUUID(),
        journal: {
          classGroupId: j.classGroupId,
          subgroupId: "",
          subjectId: j.subjectId,
          academicYear: YEAR,
        },
        lessonId: j.lessonId,
        mark: {
          studentId: j.pupils[k % j.pupils.length] as string,
          value: 2 + (k % 4),
          workType: "ORAL",
          comment: "",
        },
      };
      const deadline = Date.now() + 180_000;
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await call(req, tokens.get(j.teacher) as grpc.Metadata);
          if (r.replayed) replays++;
          acked.add(r.markId);
          answered[w] = (answered[w] ?? 0) + 1;
          break;
        } catch (err) {
          const code = (err as grpc.ServiceError).code;
          if (!RETRYABLE.has(code) || Date.now() > deadline) throw err;
          retries++;
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        }
      }
      await new Promise((r) => setTimeout(r, o.intervalMs));
    }
  };
  const workers = Promise.all(o.journals.map(worker));
  workers.catch((err) => {
    failed = err;
  });
  return {
    acked,
    get retries() {
      return retries;
    },
    get replays() {
      return replays;
    },
    async eachAnswered(n, timeoutMs = 180_000) {
      const target = answered.map((a) => a + n);
      const deadline = Date.now() + timeoutMs;
      while (answered.some((a, w) => a < (target[w] as number))) {
        if (failed) throw failed;
        if (Date.now() > deadline)
          throw new Error(
            `mark load: not every client had ${n} more marks answered in ${timeoutMs} ms ` +
              `(answered ${answered.join(", ")}; wanted ${target.join(", ")})`,
          );
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      stopping = true;
      try {
        await workers;
      } finally {
        client.close();
      }
    },
  };
}
