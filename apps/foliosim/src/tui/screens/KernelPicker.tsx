import { Box, Text } from "ink";
import { KERNEL_OPTIONS, type KernelOptionName } from "@foliosim/scenarios";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";

export function KernelPicker({ store }: { store: AppStore }) {
  const state = useStore(store);
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
  return (
    <Box flexDirection="column">
      <Title detail={`→ ${store.kernelSpec()}`}>kernel picker</Title>
      <Box marginTop={1} flexDirection="column">
        <Text underline>Presets</Text>
        {kernels.map((p, i) => (
          <Text key={p.id} inverse={k.row === i} wrap="truncate-end">
            {i === k.presetIndex ? "(•)" : "( )"} {p.id.padEnd(22)} {p.source}
          </Text>
        ))}
      </Box>
      <Box marginTop={1} flexDirection="column">
        <Text underline>Variants of {preset?.id ?? "?"} (← → to change; * = overridden)</Text>
        {options.map((name, j) => {
          const value = k.overrides[name] ?? store.presetValue(name, preset?.id);
          const row = kernels.length + j;
          return (
            <Text key={name} inverse={k.row === row}>
              {k.overrides[name] ? "*" : " "} {name.padEnd(26)} {value}
              <Text dimColor>  [{(KERNEL_OPTIONS[name] as readonly string[]).join(" | ")}]</Text>
            </Text>
          );
        })}
      </Box>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}
