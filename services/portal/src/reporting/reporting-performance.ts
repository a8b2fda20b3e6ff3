import * as grpc from "@grpc/grpc-js";
import {
  type GetDiariesRequest,
  type GetDiariesResponse,
  ReportingServiceClient,
} from "@otmetka/proto/reporting/v1/reporting_service";
import { bearerMetadata, CLIENT_CHANNEL_DEFAULTS } from "@otmetka/service-kit";
import type { PupilPerformanceData } from "../contract/schemas.js";
import { yearRange } from "../feed/marks.js";
import type { PerformanceSource } from "../feed/performance-source.js";
import type { PublishablePupil } from "../feed/snapshots.js";
import { snapshotOfDiary } from "./diary-snapshot.js";

/** Pupils per GetDiaries call: one call per academic year and chunk. */
const CHUNK = 200;

/**
 * Performance from reporting's batch GetDiaries with the portal's service token. A failed call
 * (reporting down, token refused) throws: the debouncer's batch rolls back and is retried. An
 * item error (reporting does not know the pupil yet) leaves the pupil out: it is deferred, and
 * `onItemError` says why.
 */
export function reportingPerformance(o: {
  address: string;
  token: () => Promise<string>;
  deadlineMs?: number;
  onItemError?: (studentId: string, code: string, message: string) => void;
}): { source: PerformanceSource; close(): void } {
  const raw = new ReportingServiceClient(
    o.address,
    grpc.credentials.createInsecure(),
    CLIENT_CHANNEL_DEFAULTS,
  );
  // With a deadline: a hung reporting must fail the batch (and retry), not stall the debouncer.
  const getDiaries = (req: GetDiariesRequest, md: grpc.Metadata) =>
    new Promise<GetDiariesResponse>((resolve, reject) =>
      raw.getDiaries(req, md, { deadline: Date.now() + (o.deadlineMs ?? 10_000) }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  const source: PerformanceSource = async (pupils, asOf) => {
    const out = new Map<string, PupilPerformanceData>();
    const byYear = new Map<number, PublishablePupil[]>();
    for (const p of pupils)
      byYear.set(p.academic_year, [...(byYear.get(p.academic_year) ?? []), p]);
    for (const [year, list] of byYear) {
      for (let i = 0; i < list.length; i += CHUNK) {
        const chunk = list.slice(i, i + CHUNK);
        const md = bearerMetadata(await o.token());
        const r = await getDiaries(
          { studentIds: chunk.map((p) => p.person_id), ...yearRange(year) },
          md,
        );
        const byId = new Map(chunk.map((p) => [p.person_id, p]));
        for (const res of r.results) {
          const p = byId.get(res.studentId);
          if (!p) continue;
          if (res.diary) out.set(p.person_id, snapshotOfDiary(p, res.diary, asOf));
          else o.onItemError?.(res.studentId, res.error?.code ?? "", res.error?.message ?? "");
        }
      }
    }
    return out;
  };
  return { source, close: () => raw.close() };
}
