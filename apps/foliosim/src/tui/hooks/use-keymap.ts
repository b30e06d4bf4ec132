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
  return bindings.filter((b) => b.help !== "").map((b) => `${b.label ?? b.keys.join("/")} ${b.help}`).join(" · ");
}

/** Run the first binding that matches one key press. */
function dispatch(bindings: readonly KeyBinding[], input: string, key: Key): void {
  for (const b of bindings) {
    if (matches(b, input, key)) {
      b.run();
      return;
    }
  }
}

/**
 * The key presses in one input event: Ink splits escape sequences, but characters that
 * arrive together (auto-repeat, a pasted `nnnn`) come as one string; each is a press.
 */
export function keyPresses(input: string, key: Key): [string, Key][] {
  const chars = [...input];
  if (chars.length <= 1 || key.ctrl || key.meta || input.includes("\u001B")) return [[input, key]];
  return chars.map((c) => [c, { ...key, return: c === "\r", tab: c === "\t", shift: c !== c.toLowerCase() }]);
}

export function useKeymap(bindings: readonly KeyBinding[], active = true): string {
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      for (const [c, k] of keyPresses(input, key)) dispatch(bindings, c, k);
    },
    { isActive: Boolean(isRawModeSupported) && active },
  );
  return helpLine(bindings);
}
