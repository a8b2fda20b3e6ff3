import { DomainError } from "@otmetka/service-kit";

/** The DomainError a command is refused with; fails the test if the command was accepted. */
export async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("the command was accepted");
}
