import { Box, Text, useStdout } from "ink";
import { KERNEL_OPTIONS, type KernelOptionName } from "@foliosim/scenarios";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { windowAround } from "../components/viewport.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";

export function KernelPicker({ store }: { store: AppStore }) {
  const state = useStore(store);
  const { stdout } = useStdout();
  const bindings: KeyBinding[] = [
    { keys: ["up"], label: "↑", help: "up", run: () => store.movePicker(-1) },
    { keys: ["down"], label: "↓", help: "down", run: () => store.movePicker(1) },
    { keys: ["return"], label: "enter", help: "choose preset", run: () => store.pickPreset() },
    { keys: ["left"], label: "←", help: "previous value", run: () => store.cycleOption(-1) },
    { keys: ["right", " "], label: "→/space", help: "next value", run: () => store.cycleOption(1) },
    { keys: ["escape", "q"], label: "esc/q", help: "back", run: () => store.go("catalog") },
  ];
  const help = useKeymap(bindings);
  const { kernels } = state.list;
  const k = state.kernel;
  const preset = kernels[k.presetIndex];
  const options = Object.keys(KERNEL_OPTIONS) as KernelOptionName[];
  // One scrolling list of presets then variant options, around the cursor row.
  const view = windowAround(kernels.length + options.length, k.row, (stdout?.rows ?? 40) - 9);
  const shownPresets = kernels.map((p, i) => ({ p, i })).filter(({ i }) => i >= view.start && i < view.end);
  const shownOptions = options.map((name, j) => ({ name, row: kernels.length + j })).filter(({ row }) => row >= view.start && row < view.end);
  return (
    <Box flexDirection="column">
      <Title detail={`→ ${store.kernelSpec()}`}>kernel picker</Title>
      <Text dimColor>{view.start > 0 ? `  ↑ ${view.start} more` : " "}</Text>
      {shownPresets.length > 0 ? (
        <Box flexDirection="column">
          <Text underline>Presets</Text>
          {shownPresets.map(({ p, i }) => (
            <Text key={p.id} inverse={k.row === i} wrap="truncate-end">
              {k.row === i ? "›" : " "}
              {i === k.presetIndex ? "(•)" : "( )"} {p.id.padEnd(22)} {p.source}
            </Text>
          ))}
        </Box>
      ) : null}
      {shownOptions.length > 0 ? (
        <Box marginTop={shownPresets.length > 0 ? 1 : 0} flexDirection="column">
          <Text underline wrap="truncate-end">Variants of {preset?.id ?? "?"} (← → to change; * = overridden)</Text>
          {shownOptions.map(({ name, row }) => {
            const value = k.overrides[name] ?? store.presetValue(name, preset?.id);
            return (
              <Text key={name} inverse={k.row === row} wrap="truncate-end">
                {k.row === row ? "›" : " "}
                {k.overrides[name] ? "*" : " "} {name.padEnd(26)} {value}
                <Text dimColor>  [{(KERNEL_OPTIONS[name] as readonly string[]).join(" | ")}]</Text>
              </Text>
            );
          })}
        </Box>
      ) : null}
      <Text dimColor>{view.end < kernels.length + options.length ? `  ↓ ${kernels.length + options.length - view.end} more` : " "}</Text>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}
