import { Box, Text } from "ink";
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
        <Box flexDirection="column" flexGrow={1} marginLeft={2}>
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
            <Text underline>Kernels (* headline)</Text>
            {kernels.map((k) => (
              <Text key={k.id} wrap="truncate-end">
                {k.headline ? "*" : " "} {k.id.padEnd(22)} {Object.entries(k.variants).map(([n, v]) => `${n}=${v}`).join(", ") || "—"}
              </Text>
            ))}
          </Box>
        </Box>
      </Box>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}

