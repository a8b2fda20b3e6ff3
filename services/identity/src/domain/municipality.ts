import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

export interface MunicipalityState {
  registered: boolean;
  name: string;
}

export type MunicipalityCommand = {
  type: "RegisterMunicipality";
  municipalityId: string;
  name: string;
};

export const municipalityDecider: Decider<MunicipalityState, MunicipalityCommand> = {
  initialState: () => ({ registered: false, name: "" }),
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    if (e.name === "MunicipalityRegistered" || e.name === "MunicipalityRenamed") {
      return { registered: true, name: e.value.name };
    }
    return state;
  },
  decide(command, state) {
    if (state.registered) throw refused("municipality_id", "is already registered");
    return [
      newEvent("MunicipalityRegistered", {
        municipalityId: command.municipalityId,
        name: command.name,
      }),
    ];
  },
};
