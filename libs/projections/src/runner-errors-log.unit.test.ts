import type { Logger } from "@otmetka/service-kit";
import { expect, it } from "vitest";
import { EventSetAside, SetAsideLimitReached } from "./errors.js";
import type { SetAsideEvent } from "./set-aside.js";
import { logRunnerErrors } from "./start-projection.js";

const event: SetAsideEvent = {
  projection: "p",
  source: "grades",
  sequence: 7,
  eventId: "e-7",
  streamId: "journal-1",
  version: 3,
  type: "grades.v1.MarkRecorded",
  sqlstate: "22P05",
  message: "unsupported Unicode escape sequence",
  setAsideAt: new Date(0),
};

function recordingLogger() {
  const lines: { level: string; obj: unknown; msg: string }[] = [];
  const at = (level: string) => (obj: unknown, msg: string) => lines.push({ level, obj, msg });
  return { lines, logger: { warn: at("warn"), error: at("error") } as unknown as Logger };
}

// Reporting builds its runner itself: before logRunnerErrors it logged every one of these as
// "read model error (it retries)", a set-aside event and a stopped read model alike.
it("logs a set-aside event as a warning naming it, the limit as an error, the rest as retried", () => {
  const { lines, logger } = recordingLogger();
  const onError = logRunnerErrors(logger, "read model");
  onError(new EventSetAside(event), "set aside");
  onError(new SetAsideLimitReached("p", 2, 2, event), "batch");
  onError(new Error("connection lost"), "batch");
  expect(lines.map((l) => l.level)).toEqual(["warn", "error", "warn"]);
  expect(lines[0]?.msg).toMatch(/e-7.*journal-1|journal-1.*e-7|22P05/);
  expect(lines[0]?.obj).toEqual({ setAside: event, where: "set aside" });
  expect(lines[1]?.msg).toMatch(/otmetka-projections set-aside p/);
  expect(lines[2]?.msg).toBe("read model error (it retries)");
});
