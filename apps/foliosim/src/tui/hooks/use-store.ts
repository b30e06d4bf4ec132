import { useSyncExternalStore } from "react";
import type { AppStore, State } from "../store.js";

/** Read the store (a plain external store) the React way. */
export function useStore(store: AppStore): State {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
