import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { decodeEvent, newEvent } from "./events.js";

/** Whether an account may log in, or is gone (stream account-<id>, beside its grants). */
export interface AccountStatusState {
  disabled: boolean;
  deleted: boolean;
}

export type AccountStatusCommand =
  | { type: "DisableAccount"; accountId: string; reason: string }
  | { type: "EnableAccount"; accountId: string }
  | { type: "DeleteAccount"; accountId: string; reason: string };

/** AccountDeleted's reason when erasure deletes the account: a case reference, no data. */
export const ERASURE_REASON = "person erased";

/**
 * Disabling, enabling and deleting an account. Like granting a held role, asking for the state
 * the account is already in writes nothing (a retry, or two admins acting at once, is
 * harmless); the first reason stays. A deleted account changes no more.
 */
export const accountStatusDecider: Decider<AccountStatusState, AccountStatusCommand> = {
  initialState: () => ({ disabled: false, deleted: false }),
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    if (e.name === "AccountDisabled") return { ...state, disabled: true };
    if (e.name === "AccountEnabled") return { ...state, disabled: false };
    if (e.name === "AccountDeleted") return { ...state, deleted: true };
    return state;
  },
  decide(command, state) {
    if (state.deleted) return [];
    if (command.type === "DeleteAccount") {
      return [newEvent("AccountDeleted", { accountId: command.accountId, reason: command.reason })];
    }
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
