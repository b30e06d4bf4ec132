import { Text } from "ink";
import { Spinner } from "@inkjs/ui";
import type { State } from "../store.js";

/** A spinner while a counterexample is replayed and shrunk off the UI thread. */
export function Busy({ state }: { state: State }) {
  if (!state.opening) return null;
  return <Spinner label="replaying and shrinking the counterexample (the screen stays live; esc cancels) …" />;
}

