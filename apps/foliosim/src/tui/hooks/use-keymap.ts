/**
 * One key map per screen: the same table drives the input handler and the help line
 * (conventions §2.3). Input is only read when raw mode is supported (ink #166: no
 * crash on a non-TTY stdin) and the screen is active.
 */

import { useInput, useStdin, type Key } from "ink";

export interface KeyBinding {
  /** Characters, or named keys: up, down, left, right, return, escape, tab, ctrl+c. */
  keys: string[];
  /** What the help line shows for the keys ("↑↓"); default the keys joined by "/". */
  label?: string;
  help: string;
  run(): void;
}

export function matches(binding: KeyBinding, input: string, key: Key): boolean {
  return binding.keys.some((k) => {
    switch (k) {
      case "up":
        return key.upArrow;
      case "down":
        return key.downArrow;
      case "left":
        return key.leftArrow;
      case "right":
        return key.rightArrow;
      case "return":
        return key.return;
      case "escape":
        return key.escape;
      case "tab":
        return key.tab;
      case "ctrl+c":
        return key.ctrl && input === "c";
      default:
        return !key.ctrl && !key.meta && input === k;
    }
  });
}

/** The help line of a key map: "↑↓ move · enter open · q quit". */
export function helpLine(bindings: readonly KeyBinding[]): string {
  return bindings.map((b) => `${b.label ?? b.keys.join("/")} ${b.help}`).join(" · ");
}

export function useKeymap(bindings: readonly KeyBinding[], active = true): string {
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      for (const b of bindings) {
        if (matches(b, input, key)) {
          b.run();
          return;
        }
      }
    },
    { isActive: Boolean(isRawModeSupported) && active },
  );
  return helpLine(bindings);
}
