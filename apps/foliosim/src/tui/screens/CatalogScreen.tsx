import { Box, Text, useStdout } from "ink";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";

export function catalogKeymap(store: AppStore, exit: () => void): KeyBinding[] {
  return [
    { keys: ["up"], label: "↑", help: "previous", run: () => store.moveScenario(-1) },
    { keys: ["down"], label: "↓", help: "next", run: () => store.moveScenario(1) },
    { keys: ["k"], help: "kernel picker", run: () => store.go("kernels") },
    { keys: ["x", "return"], label: "x/enter", help: "explore", run: () => store.startExplore() },
    { keys: ["c"], help: "compare this scenario", run: () => store.startCompare(false) },
    { keys: ["a"], help: "compare all", run: () => store.startCompare(true) },
    { keys: ["q", "ctrl+c"], label: "q", help: "quit", run: exit },
  ];
}

export function CatalogScreen({ store, exit }: { store: AppStore; exit: () => void }) {
  const state = useStore(store);
  const help = useKeymap(catalogKeymap(store, exit));
  const { scenarios, kernels } = state.list;
  // An explicit width, one column short of the terminal: a line that fills the last
  // column makes some terminals wrap it, and Ink then miscounts the lines to redraw.
  const columns = useStdout().stdout?.columns ?? 100;
  const right = Math.max(30, columns - 36 - 1);
  const selected = scenarios[state.scenarioIndex];
  return (
    <Box flexDirection="column">
      <Title detail={`kernel ${store.kernelSpec()}`}>catalog</Title>
      <Box marginTop={1} flexDirection="row">
        <Box flexDirection="column" width={34}>
          <Text underline>Scenarios ({scenarios.length})</Text>
          {scenarios.map((s, i) => (
            <Text key={s.id} inverse={i === state.scenarioIndex}>
              {i === state.scenarioIndex ? "›" : " "} {s.id}
            </Text>
          ))}
        </Box>
        <Box flexDirection="column" width={right} marginLeft={2}>
          {selected ? (
            <>
              <Text bold>{selected.title}</Text>
              <Text>{selected.description}</Text>
              <Text>
                <Text bold>Source: </Text>
                {selected.source}
              </Text>
              <Text>
                <Text bold>Promise: </Text>
                {selected.promise}
              </Text>
            </>
          ) : (
            <Text>No scenarios.</Text>
          )}
          <Box marginTop={1} flexDirection="column">
            <Text underline>Kernels ({kernels.length}; * headline; k opens the picker with their variants)</Text>
            <Text>{kernels.map((k) => `${k.headline ? "*" : ""}${k.id}`).join("  ")}</Text>
          </Box>
        </Box>
      </Box>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}

