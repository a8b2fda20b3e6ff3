import { randomUUID } from "node:crypto";
import { loadAggregate, type StreamAppend } from "@otmetka/eventstore";
import { notFound, refused } from "../domain/errors.js";
import { municipalityDecider } from "../domain/municipality.js";
import { type SchoolState, schoolDecider } from "../domain/school.js";
import { streamIds } from "../domain/stream-ids.js";
import {
  requireCivilDate,
  requireCommandId,
  requireId,
  requireLegalEntityInn,
  requireName,
  requireOgrn,
  requireTimeZone,
} from "../domain/validators.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { readStream, runCommand } from "./run-command.js";

export async function registerMunicipality(
  deps: IdentityDeps,
  input: { commandId: string; name: string },
  ctx: CallContext = {},
): Promise<{ municipalityId: string }> {
  const commandId = requireCommandId(input.commandId);
  const name = requireName("name", input.name);
  const municipalityId = randomUUID();
  const { result } = await runCommand(deps.store, {
    streamId: streamIds.municipality(municipalityId),
    decider: municipalityDecider,
    command: { type: "RegisterMunicipality", municipalityId, name },
    commandId,
    payload: { type: "RegisterMunicipality", name },
    result: () => ({ municipalityId }),
    ...ctx,
  });
  return result;
}

export async function renameMunicipality(
  deps: IdentityDeps,
  input: { commandId: string; municipalityId: string; name: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const municipalityId = requireId("municipality_id", input.municipalityId);
  const name = requireName("name", input.name);
  const streamId = streamIds.municipality(municipalityId);
  const { state } = await loadAggregate(deps.store, streamId, municipalityDecider);
  if (!state.registered) throw notFound("municipality_id", "municipality", municipalityId);
  await runCommand(deps.store, {
    streamId,
    decider: municipalityDecider,
    command: { type: "RenameMunicipality", name },
    commandId,
    payload: { type: "RenameMunicipality", municipalityId, name },
    result: () => ({}),
    ...ctx,
  });
}

export interface RegisterSchoolInput {
  commandId: string;
  municipalityId: string;
  name: string;
  shortName: string;
  address: string;
  timeZone: string;
  inn: string;
  ogrn: string;
}

export async function registerSchool(
  deps: IdentityDeps,
  input: RegisterSchoolInput,
  ctx: CallContext = {},
): Promise<{ schoolId: string }> {
  const commandId = requireCommandId(input.commandId);
  const fields = {
    municipalityId: requireId("municipality_id", input.municipalityId),
    name: requireName("name", input.name),
    shortName: requireName("short_name", input.shortName, 80),
    address: requireName("address", input.address, 500),
    timeZone: requireTimeZone("time_zone", input.timeZone),
    inn: requireLegalEntityInn("inn", input.inn),
    ogrn: requireOgrn("ogrn", input.ogrn),
  };
  const municipality = await loadAggregate(
    deps.store,
    streamIds.municipality(fields.municipalityId),
    municipalityDecider,
  );
  if (!municipality.state.registered) {
    throw notFound("municipality_id", "municipality", fields.municipalityId);
  }
  const schoolId = randomUUID();
  const { result } = await runCommand(deps.store, {
    streamId: streamIds.school(schoolId),
    decider: schoolDecider,
    command: { type: "RegisterSchool", schoolId, ...fields },
    commandId,
    payload: { type: "RegisterSchool", ...fields },
    result: () => ({ schoolId }),
    ...ctx,
  });
  return result;
}

/** The school's state, or NOT_FOUND naming `field`. */
/** The school and its read for a plan (readStream), or NOT_FOUND naming `field`. */
export async function readSchool(
  deps: IdentityDeps,
  field: string,
  schoolId: string,
): Promise<{ state: SchoolState; read: StreamAppend }> {
  const r = await readStream(deps.store, streamIds.school(schoolId), schoolDecider);
  if (!r.state.registered) throw notFound(field, "school", schoolId);
  return r;
}

/**
 * The appends of a command that adds to a school (a person, a class group), refused while the
 * school is closed. In the plan, so a retry is answered from the commands table before it (its
 * first answer, also once the school has closed), and with the school's stream checked in the
 * same append, so a CloseSchool committed meanwhile makes the command plan again and refuse.
 */
export async function inOpenSchool(
  deps: IdentityDeps,
  schoolId: string,
  decide: () => Promise<StreamAppend[]>,
): Promise<StreamAppend[]> {
  const { state, read } = await readSchool(deps, "school_id", schoolId);
  if (state.closedOn !== "") throw refused("school_id", `is closed since ${state.closedOn}`);
  return [...(await decide()), read];
}

export async function loadSchool(
  deps: IdentityDeps,
  field: string,
  schoolId: string,
): Promise<SchoolState> {
  return (await readSchool(deps, field, schoolId)).state;
}

export async function renameSchool(
  deps: IdentityDeps,
  input: { commandId: string; schoolId: string; name: string; shortName: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const schoolId = requireId("school_id", input.schoolId);
  const name = requireName("name", input.name);
  const shortName = requireName("short_name", input.shortName, 80);
  await loadSchool(deps, "school_id", schoolId);
  await runCommand(deps.store, {
    streamId: streamIds.school(schoolId),
    decider: schoolDecider,
    command: { type: "RenameSchool", name, shortName },
    commandId,
    payload: { type: "RenameSchool", schoolId, name, shortName },
    result: () => ({}),
    ...ctx,
  });
}

export async function closeSchool(
  deps: IdentityDeps,
  input: { commandId: string; schoolId: string; closedOn: string },
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const schoolId = requireId("school_id", input.schoolId);
  const closedOn = requireCivilDate("closed_on", input.closedOn);
  await loadSchool(deps, "school_id", schoolId);
  await runCommand(deps.store, {
    streamId: streamIds.school(schoolId),
    decider: schoolDecider,
    command: { type: "CloseSchool", closedOn },
    commandId,
    payload: { type: "CloseSchool", schoolId, closedOn },
    result: () => ({}),
    ...ctx,
  });
}
