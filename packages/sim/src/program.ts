/**
 * Programs: a set-up function that creates shared objects and spawns tasks on a fresh
 * machine. A run is a pure function of (program, configuration, chooser decisions).
 */

import type { Chooser, Machine, MachineConfig, RunResult } from "./machine.js";
import { Machine as MachineClass } from "./machine.js";

export type Program = (m: Machine) => void;

/** Build a fresh machine and set the program up on it. */
export function instantiate(program: Program, config: MachineConfig): Machine {
  const m = new MachineClass(config);
  program(m);
  return m;
}

/** One execution of `program` under `chooser`. */
export function runProgram(program: Program, config: MachineConfig, chooser: Chooser): RunResult {
  return instantiate(program, config).run(chooser);
}
