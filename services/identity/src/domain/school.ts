import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

export interface SchoolState {
  registered: boolean;
  schoolId: string;
  municipalityId: string;
  name: string;
  shortName: string;
  timeZone: string;
  /** Civil date from which the school is closed; "" while open. */
  closedOn: string;
}

export type SchoolCommand =
  | {
      type: "RegisterSchool";
      schoolId: string;
      municipalityId: string;
      name: string;
      shortName: string;
      address: string;
      timeZone: string;
      inn: string;
      ogrn: string;
    }
  | { type: "RenameSchool"; name: string; shortName: string }
  | { type: "CloseSchool"; closedOn: string };

export const initialSchoolState = (): SchoolState => ({
  registered: false,
  schoolId: "",
  municipalityId: "",
  name: "",
  shortName: "",
  timeZone: "",
  closedOn: "",
});

/** Whether the school is closed on a civil date (closed from `closedOn` inclusive). */
export const isSchoolClosedOn = (s: SchoolState, date: string) =>
  s.closedOn !== "" && date >= s.closedOn;

export const schoolDecider: Decider<SchoolState, SchoolCommand> = {
  initialState: initialSchoolState,
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    switch (e.name) {
      case "SchoolRegistered":
        return {
          ...state,
          registered: true,
          schoolId: e.value.schoolId,
          municipalityId: e.value.municipalityId,
          name: e.value.name,
          shortName: e.value.shortName,
          timeZone: e.value.timeZone,
        };
      case "SchoolRenamed":
        return { ...state, name: e.value.name, shortName: e.value.shortName };
      case "SchoolClosed":
        return { ...state, closedOn: e.value.closedOn };
      default:
        return state;
    }
  },
  decide(command, state) {
    if (command.type === "RegisterSchool") {
      if (state.registered) throw refused("school_id", "is already registered");
      const { type: _, ...fields } = command;
      return [newEvent("SchoolRegistered", fields)];
    }
    if (!state.registered) throw refused("school_id", "is not registered");
    if (state.closedOn !== "") throw refused("school_id", `is closed since ${state.closedOn}`);
    if (command.type === "RenameSchool") {
      if (command.name === state.name && command.shortName === state.shortName) {
        throw refused("name", "is already the school's name");
      }
      return [
        newEvent("SchoolRenamed", {
          schoolId: state.schoolId,
          municipalityId: state.municipalityId,
          name: command.name,
          shortName: command.shortName,
        }),
      ];
    }
    return [
      newEvent("SchoolClosed", {
        schoolId: state.schoolId,
        municipalityId: state.municipalityId,
        closedOn: command.closedOn,
      }),
    ];
  },
};
