import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { decodeEvent, newEvent } from "./events.js";

/** Whether an account may log in (stream account-<id>, beside its grants). */
export interface AccountStatusState {
  disabled: boolean;
}

export type AccountStatusCommand =
  | { type: "DisableAccount"; accountId: string; reason: string }
  | { type: "EnableAccount"; accountId: string };

/**
 * Disabling and enabling an account. Like granting a held role, asking for the state the
 * account is already in writes nothing (a retry, or two admins acting at once, is harmless);
 * the first reason stays.
 */
export const accountStatusDecider: Decider<AccountStatusState, AccountStatusCommand> = {
  initialState: () => ({ disabled: false }),
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    if (e.name === "AccountDisabled") return { disabled: true };
    if (e.name === "AccountEnabled") return { disabled: false };
    return state;
  },
  decide(command, state) {
    if (command.type === "DisableAccount") {
      if (state.disabled) return [];
      return [
        newEvent("AccountDisabled", { accountId: command.accountId, reason: command.reason }),
      ];
    }
    if (!state.disabled) return [];
    return [newEvent("AccountEnabled", { accountId: command.accountId })];
  },
};
