import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

export interface MunicipalityState {
  registered: boolean;
  municipalityId: string;
  name: string;
}

export type MunicipalityCommand =
  | { type: "RegisterMunicipality"; municipalityId: string; name: string }
  | { type: "RenameMunicipality"; name: string };

export const municipalityDecider: Decider<MunicipalityState, MunicipalityCommand> = {
  initialState: () => ({ registered: false, municipalityId: "", name: "" }),
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    if (e.name === "MunicipalityRegistered" || e.name === "MunicipalityRenamed") {
      return { registered: true, municipalityId: e.value.municipalityId, name: e.value.name };
    }
    return state;
  },
  decide(command, state) {
    if (command.type === "RenameMunicipality") {
      if (!state.registered) throw refused("municipality_id", "is not registered");
      if (command.name === state.name) throw refused("name", "is already the municipality's name");
      return [
        newEvent("MunicipalityRenamed", {
          municipalityId: state.municipalityId,
          name: command.name,
        }),
      ];
    }
    if (state.registered) throw refused("municipality_id", "is already registered");
    return [
      newEvent("MunicipalityRegistered", {
        municipalityId: command.municipalityId,
        name: command.name,
      }),
    ];
  },
};
