import type { Decider, NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { invalidInput, refused } from "./errors.js";
import { decodeEvent, newEvent } from "./events.js";

export interface ClassGroupState {
  opened: boolean;
  classGroupId: string;
  schoolId: string;
  municipalityId: string;
  academicYear: number;
  gradeLevel: number;
  letter: string;
  homeroomTeacherId: string;
  closed: boolean;
}

export type ClassGroupCommand =
  | {
      type: "OpenClassGroup";
      classGroupId: string;
      schoolId: string;
      municipalityId: string;
      academicYear: number;
      gradeLevel: number;
      letter: string;
      homeroomTeacherId: string;
    }
  | { type: "RenameClassGroup"; gradeLevel: number; letter: string }
  | { type: "AssignHomeroomTeacher"; homeroomTeacherId: string }
  | { type: "CloseClassGroup" };

export function requireGradeLevel(field: string, grade: number): number {
  if (!Number.isInteger(grade) || grade < 1 || grade > 11) {
    throw invalidInput(field, "must be a grade level 1-11");
  }
  return grade;
}

/** One or two letters, upper case: "а" -> "А". */
export function requireLetter(field: string, raw: string): string {
  const letter = raw.trim().toLocaleUpperCase("ru");
  if (!/^\p{L}{1,2}$/u.test(letter))
    throw invalidInput(field, "must be one or two letters, e.g. А");
  return letter;
}

export const initialClassGroupState = (): ClassGroupState => ({
  opened: false,
  classGroupId: "",
  schoolId: "",
  municipalityId: "",
  academicYear: 0,
  gradeLevel: 0,
  letter: "",
  homeroomTeacherId: "",
  closed: false,
});

export const classGroupDecider: Decider<ClassGroupState, ClassGroupCommand> = {
  initialState: initialClassGroupState,
  evolve(state, event: RecordedEvent | NewEvent) {
    const e = decodeEvent(event);
    switch (e.name) {
      case "ClassGroupOpened":
        return {
          opened: true,
          classGroupId: e.value.classGroupId,
          schoolId: e.value.schoolId,
          municipalityId: e.value.municipalityId,
          academicYear: e.value.academicYear?.startYear ?? 0,
          gradeLevel: e.value.gradeLevel,
          letter: e.value.letter,
          homeroomTeacherId: e.value.homeroomTeacherId,
          closed: false,
        };
      case "ClassGroupRenamed":
        return { ...state, gradeLevel: e.value.gradeLevel, letter: e.value.letter };
      case "HomeroomTeacherAssigned":
        return { ...state, homeroomTeacherId: e.value.homeroomTeacherId };
      case "ClassGroupClosed":
        return { ...state, closed: true };
      default:
        return state;
    }
  },
  decide(command, state) {
    if (command.type === "OpenClassGroup") {
      if (state.opened) throw refused("class_group_id", "is already open");
      const { type: _, academicYear, ...rest } = command;
      return [newEvent("ClassGroupOpened", { ...rest, academicYear: { startYear: academicYear } })];
    }
    if (!state.opened) throw refused("class_group_id", "is not open");
    if (state.closed) throw refused("class_group_id", "is closed");
    const ids = {
      classGroupId: state.classGroupId,
      schoolId: state.schoolId,
      municipalityId: state.municipalityId,
    };
    switch (command.type) {
      case "RenameClassGroup":
        if (command.gradeLevel === state.gradeLevel && command.letter === state.letter) {
          throw refused("letter", "is already the class group's name");
        }
        return [
          newEvent("ClassGroupRenamed", {
            ...ids,
            gradeLevel: command.gradeLevel,
            letter: command.letter,
          }),
        ];
      case "AssignHomeroomTeacher":
        return [
          newEvent("HomeroomTeacherAssigned", {
            ...ids,
            homeroomTeacherId: command.homeroomTeacherId,
          }),
        ];
      case "CloseClassGroup":
        return [newEvent("ClassGroupClosed", ids)];
    }
  },
};
