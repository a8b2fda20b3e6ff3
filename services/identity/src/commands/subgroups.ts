import { randomUUID } from "node:crypto";
import { loadAggregate } from "@otmetka/eventstore";
import { notFound, refused } from "../domain/errors.js";
import { personDecider } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import { subgroupDecider } from "../domain/subgroup.js";
import {
  requireCivilDate,
  requireCommandId,
  requireId,
  requireName,
} from "../domain/validators.js";
import { loadClassGroup } from "./class-groups.js";
import type { CallContext, IdentityDeps } from "./deps.js";
import { loadPerson } from "./people.js";
import { decideOnStream, readStream, runCommand, runPlan } from "./run-command.js";

export async function openSubgroup(
  deps: IdentityDeps,
  input: { commandId: string; classGroupId: string; subjectId: string; name: string },
  ctx: CallContext = {},
): Promise<{ subgroupId: string }> {
  const commandId = requireCommandId(input.commandId);
  const classGroupId = requireId("class_group_id", input.classGroupId);
  const subjectId = requireName("subject_id", input.subjectId, 100);
  const name = requireName("name", input.name, 100);
  const g = await loadClassGroup(deps, "class_group_id", classGroupId);
  if (g.closed) throw refused("class_group_id", "is closed");
  const subgroupId = randomUUID();
  const { result } = await runCommand(deps.store, {
    streamId: streamIds.subgroup(subgroupId),
    decider: subgroupDecider,
    command: {
      type: "OpenSubgroup",
      subgroupId,
      classGroupId,
      schoolId: g.schoolId,
      municipalityId: g.municipalityId,
      subjectId,
      name,
    },
    commandId,
    payload: { type: "OpenSubgroup", classGroupId, subjectId, name },
    result: () => ({ subgroupId }),
    ...ctx,
  });
  return result;
}

interface MemberInput {
  commandId: string;
  subgroupId: string;
  personId: string;
  effectiveDate: string;
}

async function loadSubgroup(deps: IdentityDeps, subgroupId: string) {
  const { state } = await loadAggregate(
    deps.store,
    streamIds.subgroup(subgroupId),
    subgroupDecider,
  );
  if (!state.opened) throw notFound("subgroup_id", "subgroup", subgroupId);
  return state;
}

/** A member must be in the subgroup's class group on the day membership starts. */
export async function addSubgroupMember(
  deps: IdentityDeps,
  input: MemberInput,
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const subgroupId = requireId("subgroup_id", input.subgroupId);
  const personId = requireId("person_id", input.personId);
  const effectiveDate = requireCivilDate("effective_date", input.effectiveDate);
  const subgroup = await loadSubgroup(deps, subgroupId);
  await loadPerson(deps, "person_id", personId);
  await runPlan(deps.store, {
    commandId,
    payload: { type: "AddSubgroupMember", subgroupId, personId, effectiveDate },
    ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
    // The pupil's stream is read in the plan and checked in the append: a transfer or
    // withdrawal committed meanwhile makes the command plan again on the pupil's new stays.
    plan: async () => {
      const person = await readStream(deps.store, streamIds.person(personId), personDecider);
      const inClassGroupOnDate = person.state.enrollments.some(
        (p) =>
          p.classGroupId === subgroup.classGroupId &&
          p.from <= effectiveDate &&
          (p.to === "" || p.to > effectiveDate),
      );
      const append = await decideOnStream(
        deps.store,
        streamIds.subgroup(subgroupId),
        subgroupDecider,
        {
          type: "AddSubgroupMember",
          personId,
          effectiveDate,
          inClassGroupOnDate,
        },
      );
      return { appends: [append, person.read], result: {} };
    },
  });
}

export async function removeSubgroupMember(
  deps: IdentityDeps,
  input: MemberInput,
  ctx: CallContext = {},
): Promise<void> {
  const commandId = requireCommandId(input.commandId);
  const subgroupId = requireId("subgroup_id", input.subgroupId);
  const personId = requireId("person_id", input.personId);
  const effectiveDate = requireCivilDate("effective_date", input.effectiveDate);
  await loadSubgroup(deps, subgroupId);
  await runCommand(deps.store, {
    streamId: streamIds.subgroup(subgroupId),
    decider: subgroupDecider,
    command: { type: "RemoveSubgroupMember", personId, effectiveDate },
    commandId,
    payload: { type: "RemoveSubgroupMember", subgroupId, personId, effectiveDate },
    result: () => ({}),
    ...ctx,
  });
}
