import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

/** Membership of one pupil: from `from` (inclusive) to `to` (exclusive; "" while it lasts). */
export interface MembershipPeriod {
  from: string;
  to: string;
}

export interface SubgroupState {
  opened: boolean;
  subgroupId: string;
  classGroupId: string;
  schoolId: string;
  municipalityId: string;
  members: Readonly<Record<string, readonly MembershipPeriod[]>>;
}

export type SubgroupCommand =
  | {
      type: "OpenSubgroup";
      subgroupId: string;
      classGroupId: string;
      schoolId: string;
      municipalityId: string;
      subjectId: string;
      name: string;
    }
  | {
      type: "AddSubgroupMember";
      personId: string;
      effectiveDate: string;
      /** Whether the pupil is in the subgroup's class group on that date (loaded by the caller). */
      inClassGroupOnDate: boolean;
    }
  | { type: "RemoveSubgroupMember"; personId: string; effectiveDate: string };

const closeOpen = (periods: readonly MembershipPeriod[], date: string) =>
  periods.map((p) => (p.to === "" ? { ...p, to: date } : p));

export const subgroupDecider: Decider<SubgroupState, SubgroupCommand> = {
  initialState: () => ({
    opened: false,
    subgroupId: "",
    classGroupId: "",
    schoolId: "",
    municipalityId: "",
    members: {},
  }),
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    switch (e.name) {
      case "SubgroupOpened":
        return {
          ...state,
          opened: true,
          subgroupId: e.value.subgroupId,
          classGroupId: e.value.classGroupId,
          schoolId: e.value.schoolId,
          municipalityId: e.value.municipalityId,
        };
      case "SubgroupMemberAdded": {
        const periods = state.members[e.value.personId] ?? [];
        const added = [...periods, { from: e.value.effectiveDate, to: "" }];
        return { ...state, members: { ...state.members, [e.value.personId]: added } };
      }
      case "SubgroupMemberRemoved": {
        const periods = closeOpen(state.members[e.value.personId] ?? [], e.value.effectiveDate);
        return { ...state, members: { ...state.members, [e.value.personId]: periods } };
      }
      default:
        return state;
    }
  },
  decide(command, state) {
    if (command.type === "OpenSubgroup") {
      if (state.opened) throw refused("subgroup_id", "is already open");
      const { type: _, ...fields } = command;
      return [newEvent("SubgroupOpened", fields)];
    }
    if (!state.opened) throw refused("subgroup_id", "is not open");
    const ids = {
      subgroupId: state.subgroupId,
      personId: command.personId,
      schoolId: state.schoolId,
      municipalityId: state.municipalityId,
      effectiveDate: command.effectiveDate,
    };
    const periods = state.members[command.personId] ?? [];
    if (command.type === "AddSubgroupMember") {
      if (!command.inClassGroupOnDate) {
        throw refused(
          "person_id",
          `is not in the subgroup's class group on ${command.effectiveDate}`,
        );
      }
      if (periods.some((p) => p.to === "" || p.to > command.effectiveDate)) {
        throw refused("effective_date", "overlaps the pupil's membership of the subgroup");
      }
      return [newEvent("SubgroupMemberAdded", ids)];
    }
    const current = periods.find((p) => p.to === "");
    if (!current) throw refused("person_id", "is not a member of the subgroup");
    if (command.effectiveDate <= current.from) {
      throw refused("effective_date", `must be after the membership began (${current.from})`);
    }
    return [newEvent("SubgroupMemberRemoved", ids)];
  },
};
