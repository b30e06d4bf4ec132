import { useApp } from "ink";
import { CatalogScreen } from "./screens/CatalogScreen.js";
import { CompareScreen } from "./screens/CompareScreen.js";
import { ExploreScreen } from "./screens/ExploreScreen.js";
import { KernelPicker } from "./screens/KernelPicker.js";
import { TraceStepper } from "./screens/TraceStepper.js";
import { useKeymap } from "./hooks/use-keymap.js";
import { useStore } from "./hooks/use-store.js";
import type { AppStore } from "./store.js";

export function App({ store, onExit }: { store: AppStore; onExit?: () => void }) {
  const { exit } = useApp();
  const state = useStore(store);
  const quit = (): void => {
    store.stopRunning();
    onExit?.();
    exit();
  };
  // Ctrl-C quits from every screen but the explore view (where it stops the exploration
  // first) and the catalog (whose own key map has it).
  useKeymap([{ keys: ["ctrl+c"], label: "ctrl-c", help: "quit", run: quit }], state.screen !== "explore" && state.screen !== "catalog");
  switch (state.screen) {
    case "catalog":
      return <CatalogScreen store={store} exit={quit} />;
    case "kernels":
      return <KernelPicker store={store} />;
    case "explore":
      return <ExploreScreen store={store} />;
    case "compare":
      return <CompareScreen store={store} />;
    case "trace":
      return <TraceStepper store={store} />;
  }
}
