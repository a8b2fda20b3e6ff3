import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";

/** Applies decided events as the store would return them, for pure decider tests. */
export function replay<S, C>(
  decider: Decider<S, C>,
  events: NewEvent[],
  state = decider.initialState(),
): S {
  let version = 0;
  for (const e of events) {
    version++;
    state = decider.evolve(state, { ...e, version } as unknown as RecordedEvent);
  }
  return state;
}

/** Decides a list of commands in order, each on the state the previous ones left. */
export function run<S, C>(decider: Decider<S, C>, commands: C[]): { state: S; events: NewEvent[] } {
  let state = decider.initialState();
  const all: NewEvent[] = [];
  for (const c of commands) {
    const events = decider.decide(c, state);
    state = replay(decider, events, state);
    all.push(...events);
  }
  return { state, events: all };
}
