import { Box, Text, useStdout } from "ink";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";
import { outcomeLabel } from "../../report.js";

export function TraceStepper({ store }: { store: AppStore }) {
  const state = useStore(store);
  const t = state.trace;
  const { stdout } = useStdout();
  const bindings: KeyBinding[] = [
    { keys: ["right", "n", "l"], label: "→/n", help: "step", run: () => store.stepTrace(1) },
    { keys: ["left", "p", "h"], label: "←/p", help: "back", run: () => store.stepTrace(-1) },
    { keys: ["g"], help: "first", run: () => store.stepTrace(-1e9) },
    { keys: ["G"], help: "last", run: () => store.stepTrace(1e9) },
    { keys: ["L"], help: "loop start", run: () => store.jumpToLoop() },
    { keys: ["f"], help: "export ftrace", run: () => store.exportTrace("ftrace") },
    { keys: ["P"], help: "export perfetto", run: () => store.exportTrace("perfetto") },
    { keys: ["m"], help: "export mermaid", run: () => store.exportTrace("mermaid") },
    { keys: ["q", "escape"], label: "q/esc", help: "back", run: () => store.go(t?.from ?? "catalog") },
  ];
  const help = useKeymap(bindings);
  if (!t) return <Text>No trace open.</Text>;
  const frame = t.frames[t.index];
  const columns = stdout?.columns ?? 100;
  const columnWidth = Math.max(12, Math.min(22, Math.floor((columns - 2) / Math.max(1, t.cpus))));
  // Small terminals get fewer event lines (the rest of the screen is fixed).
  const small = (stdout?.rows ?? 40) < 30;
  const inLoop = t.loop && t.loop.start >= 0 && t.index >= t.loop.start;
  return (
    <Box flexDirection="column">
      <Title detail={`${t.report.kernel} · ${outcomeLabel(t.report.outcome)}`}>{`trace ${t.report.scenario}`}</Title>
      <Text dimColor wrap="truncate-end">schedule {t.report.schedule}</Text>
      {t.report.failure ? <Text wrap="truncate-end">{t.report.failure.kind}: {t.report.failure.message}</Text> : null}
      <Text wrap="truncate-end">
        Step {frame ? frame.index + 1 : 0}/{t.frames.length} (machine step {frame?.step ?? "-"}) on cpu{frame?.cpu ?? "-"} by {frame?.task ?? "-"}
        {t.elided > 0 ? ` · ${t.elided} of ${t.totalFrames} frames not kept` : ""}
        {t.loop ? ` · ${inLoop ? "in the" : "then a"} ${t.loop.period}-step loop × ${t.loop.repeats.toLocaleString("en-US")} (L)` : ""}
      </Text>
      <Box marginTop={small ? 0 : 1} flexDirection="row">
        {Array.from({ length: t.cpus }, (_, c) => (
          <Box key={c} width={columnWidth} flexDirection="column">
            <Text bold>CPU{c}</Text>
            <Text inverse={frame?.cpu === c} wrap="truncate-end">
              {frame?.cpu === c ? "›" : " "}
              {frame?.cpus[c] ?? "—"}
            </Text>
          </Box>
        ))}
      </Box>
      <Box flexDirection="column">
        {(frame?.waiting ?? []).slice(0, small ? 2 : 4).map((w) => (
          <Text key={w} wrap="truncate-end">
            ◦ {w}
          </Text>
        ))}
        {(frame?.locks ?? []).slice(0, small ? 2 : 4).map((l) => (
          <Text key={l} wrap="truncate-end">
            ◦ {l}
          </Text>
        ))}
      </Box>
      <Box marginTop={small ? 0 : 1} flexDirection="column">
        {(frame?.lines ?? []).slice(0, small ? 4 : 8).map((line, i) => (
          <Text key={i} wrap="truncate-end">
            {i === 0 ? "▶ " : "  "}
            {line}
          </Text>
        ))}
      </Box>
      <Box marginTop={small ? 0 : 1} flexDirection="column">
        <Text underline>Folios</Text>
        {(frame?.folios ?? []).length === 0 ? <Text dimColor>(no folio touched yet)</Text> : null}
        {(frame?.folios ?? []).slice(0, small ? 2 : 6).map((f) => (
          <Text key={f.name} wrap="truncate-end">
            {f.name}: ref {f.refcount} · pin {f.pincount} · map {f.mapcount} · flags {f.flags || "—"} · in {f.where.join(", ") || "—"}
          </Text>
        ))}
      </Box>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}
