import type { TestServerUrls } from "@otmetka/testing";
import { afterAll, beforeAll, expect } from "vitest";
import { startGrpcInProcess } from "./grpc-in-process.js";
import { publishIdentityEvents, type schoolFixture } from "./identity-feed.js";
import { eventually, type InProcess, startInProcess } from "./in-process.js";

type Call = ReturnType<Awaited<ReturnType<typeof startGrpcInProcess>>["client"]>["call"];

export interface SchoolApi {
  app: InProcess;
  grpc: Awaited<ReturnType<typeof startGrpcInProcess>>;
  /** Fixture `a`'s school admin (its Russian teacher's person). */
  admin: Call;
  platform: Call;
  /** Fixture `a`'s maths teacher. */
  teacher: Call;
}

/**
 * A test file's in-process command side and gRPC API (vitest's beforeAll/afterAll), with
 * fixture `a`'s identity facts in the replica, and clients of three callers. The fields are
 * set once beforeAll has run.
 */
export function useSchoolApi(env: TestServerUrls, a: ReturnType<typeof schoolFixture>): SchoolApi {
  const api = {} as SchoolApi;
  beforeAll(async () => {
    api.app = await startInProcess(env);
    api.grpc = await startGrpcInProcess(api.app);
    await publishIdentityEvents(api.app.nc, api.app.names, a.events);
    await eventually(async () => {
      for (const id of [a.classGroups.a5, a.classGroups.b5]) {
        expect(await api.app.deps.facts.classGroup(id)).toBeDefined();
      }
    });
    const as = async (roles: string[], pid?: string) =>
      api.grpc.client(await api.grpc.issuer.sign({ roles, ...(pid ? { pid } : {}) })).call;
    api.admin = await as([`SCHOOL_ADMIN@school:${a.schoolId}`], a.teachers.rus);
    api.platform = await as(["PLATFORM_ADMIN"]);
    api.teacher = await as([`TEACHER@school:${a.schoolId}`], a.teachers.math);
  });
  afterAll(async () => {
    await api.grpc?.close();
    await api.app?.close();
  });
  return api;
}
