import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import * as api from "@otmetka/proto/curriculum/v1/curriculum_service";
import { requestStringFields, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcError } from "../test-support/grpc-client.js";
import { startGrpcInProcess } from "../test-support/grpc-in-process.js";
import { type InProcess, startInProcess } from "../test-support/in-process.js";

/*
 * Every string of every request of the API, found from the generated codecs: NUL and other
 * control characters are INVALID_ARGUMENT naming the field (never echoing the value), and
 * nothing is written. Tabs and line breaks pass only in homework and a cancellation's reason:
 * an id such as "m\nx" reached the events as given. Ids, person ids given as `*_by` too, are
 * at most 200 characters.
 */
const env = useTestEnvironment({ label: "curriculum_request_strings" });
let app: InProcess;
let grpc: Awaited<ReturnType<typeof startGrpcInProcess>>;
let platform: Record<string, (req: unknown) => Promise<unknown>>;

beforeAll(async () => {
  app = await startInProcess(env);
  grpc = await startGrpcInProcess(app);
  platform = grpc.client(await grpc.issuer.sign({ roles: ["PLATFORM_ADMIN"] })).call as never;
});

afterAll(async () => {
  await grpc?.close();
  await app?.close();
});

type Request = Record<string, unknown>;
const codecs = api as unknown as Record<string, { fromPartial(o: object): Request }>;

/** Values for the nested and repeated parts, so that their strings are tried too. */
const NESTED = {
  academicYear: { startYear: 2026 },
  terms: [{ number: 1, firstDay: "2026-09-01", lastDay: "2026-10-26" }],
  classGroupIds: [randomUUID()],
  items: [{ topic: "Дроби", hours: 1 }],
};

/** Each RPC (name, client method) with a request holding every field of its message. */
const rpcs = () =>
  Object.entries(api.CurriculumServiceService).map(([method, d]) => {
    const name = d.path.split("/").pop() as string;
    const codec = codecs[`${name}Request`];
    if (!codec) throw new Error(`no codec for ${name}Request`);
    return { name, method, request: () => codec.fromPartial(NESTED) };
  });

const MULTILINE = new Set(["homework", "reason"]);

const written = async () =>
  (
    await app.store.pool.query<{ n: string }>(
      "SELECT (SELECT count(*) FROM eventstore.events) + (SELECT count(*) FROM eventstore.commands) AS n",
    )
  ).rows[0]?.n;

async function expectInvalid(rpc: string, call: Promise<unknown>, field: string, bad: string) {
  const err = await grpcError(call).catch((e: Error) => {
    throw new Error(`${rpc} ${field} ${JSON.stringify(bad.slice(0, 3))}: ${e.message}`);
  });
  expect({
    rpc,
    code: err.code,
    field: err.metadata.get("field"),
    echoes: err.details.includes(bad),
  }).toEqual({ rpc, code: status.INVALID_ARGUMENT, field: [field], echoes: false });
  expect(err.details.startsWith(`${field}: `)).toBe(true);
}

describe("control characters and long ids in every request", () => {
  it("finds the strings of every RPC", () => {
    const paths = rpcs().flatMap((r) =>
      requestStringFields(r.request()).map((f) => `${r.name} ${f.path}`),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "DefineAcademicYear municipality_id",
        "DefineTermSystem terms[0].first_day",
        "ConductLesson conducted_by",
        "ConductLesson homework",
        "CancelLesson reason",
        "DraftWorkProgramme items[0].topic",
        "DraftWorkProgramme author_id",
        "ApproveWorkProgramme approved_by",
        "GenerateLessons class_group_ids[0]",
        "AddSubject code",
      ]),
    );
  });

  it("refuses NUL and other control characters; line breaks and tabs only in homework and reason", async () => {
    const before = await written();
    for (const rpc of rpcs()) {
      for (const field of requestStringFields(rpc.request())) {
        const controls = MULTILINE.has(field.key)
          ? ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085"]
          : ["\u0000", "\n", "\t", "\r", "\u0007", "\u007f", "\u0085"];
        for (const ch of controls) {
          const bad = `m${ch}${randomUUID()}`;
          const call = platform[rpc.method]?.(field.set(rpc.request(), bad));
          await expectInvalid(rpc.name, call as Promise<unknown>, field.path, bad);
        }
      }
    }
    expect(await written()).toBe(before);
  });

  it("refuses ids over 200 characters, person ids given as *_by too", async () => {
    const before = await written();
    for (const rpc of rpcs()) {
      for (const field of requestStringFields(rpc.request())) {
        if (!/(_id|_ids\[\d+\]|_by)$/.test(field.path)) continue;
        const bad = "x".repeat(201);
        const call = platform[rpc.method]?.(field.set(rpc.request(), bad));
        await expectInvalid(rpc.name, call as Promise<unknown>, field.path, bad);
      }
    }
    expect(await written()).toBe(before);
  });
});
