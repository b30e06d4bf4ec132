import { Box, Text, useStdout } from "ink";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import { windowAround } from "../components/viewport.js";
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
  const { stdout } = useStdout();
  const columns = stdout?.columns ?? 100;
  const right = Math.max(30, columns - 36 - 1);
  const selected = scenarios[state.scenarioIndex];
  // Title, margin, heading, two "more" lines and the help line (two rows, a message above).
  const rows = stdout?.rows ?? 40;
  const view = windowAround(scenarios.length, state.scenarioIndex, rows - 10);
  // A small terminal (80×24) gets a shorter description and one line of kernels.
  const small = rows < 32;
  return (
    <Box flexDirection="column">
      <Title detail={`kernel ${store.kernelSpec()}`}>catalog</Title>
      <Box marginTop={1} flexDirection="row">
        <Box flexDirection="column" width={34}>
          <Text underline>Scenarios ({scenarios.length})</Text>
          <Text dimColor>{view.start > 0 ? `  ↑ ${view.start} more` : " "}</Text>
          {scenarios.slice(view.start, view.end).map((s, j) => {
            const i = view.start + j;
            return (
              <Text key={s.id} inverse={i === state.scenarioIndex} wrap="truncate-end">
                {i === state.scenarioIndex ? "›" : " "} {s.id}
              </Text>
            );
          })}
          <Text dimColor>{view.end < scenarios.length ? `  ↓ ${scenarios.length - view.end} more` : " "}</Text>
        </Box>
        <Box flexDirection="column" width={right} marginLeft={2}>
          {selected ? (
            <>
              <Text bold>{selected.title}</Text>
              <Text>{clip(selected.description, (small ? 3 : 6) * right)}</Text>
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
            {small ? (
              <Text wrap="truncate-end">
                Kernels ({kernels.length}): {kernels.filter((k) => k.headline).map((k) => `*${k.id}`).join(" ")} … (k)
              </Text>
            ) : (
              <>
                <Text underline>Kernels ({kernels.length}; * headline; k opens the picker with their variants)</Text>
                <Text>{kernels.map((k) => `${k.headline ? "*" : ""}${k.id}`).join("  ")}</Text>
              </>
            )}
          </Box>
        </Box>
      </Box>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}


/** A long description cut to about four lines, so the catalog fits a 24-row terminal. */
function clip(text: string, chars: number): string {
  return text.length > chars ? text.slice(0, chars - 1) + "…" : text;
}
