/**
 * The scenario schema. Catalog entries (written with the TypeScript builder) and user
 * files (YAML or JSON) are both validated by it and become the same objects.
 *
 * A scenario names the machine (CPUs, preemption model, memory per zone), a
 * sequential set-up (steps run one after the other, each on its CPU, outside the
 * explored schedule), the concurrent tasks (CPU, policy, a script of calls) and the
 * promise (expected call results, no hang, invariants, nothing left pinned or held).
 *
 * Argument values may be literals, `$name` (the result bound by an earlier step's
 * `as`; `$name.field` for a field of it) or `${param}` (a scenario parameter, set from
 * the command line with `--set param=value`).
 */

import { z } from "zod";

export const ArgValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.number(), z.string(), z.boolean(), z.null(), z.array(ArgValue), z.record(z.string(), ArgValue)]),
);

export const Expectation = z
  .object({
    /** Look at this field of a structured result (e.g. "ret"). */
    field: z.string().optional(),
    equals: ArgValue.optional(),
    /** An errno name, e.g. "ENOMEM": the result must be its negative value. */
    errno: z.string().optional(),
    oneOf: z.array(ArgValue).optional(),
    atLeast: z.number().optional(),
    atMost: z.number().optional(),
  })
  .strict();
export type Expectation = z.infer<typeof Expectation>;

export interface Step {
  call: string;
  args?: Record<string, unknown>;
  as?: string;
  expect?: Expectation | Expectation[];
  /** CPU of a set-up step (default 0); ignored in task scripts. */
  cpu?: number;
  /** Run the step this many times (its `as` binds the last result). */
  repeat?: number | string;
  /** Why the step is there, shown in traces and reports. */
  note?: string;
  /** The process a set-up step runs in (default p0); task steps use their task's. */
  process?: string;
}

export const Step: z.ZodType<Step> = z
  .object({
    call: z.string().min(1),
    args: z.record(z.string(), ArgValue).optional(),
    as: z.string().regex(/^[A-Za-z_][\w]*$/, "a name made of letters, digits and _").optional(),
    expect: z.union([Expectation, z.array(Expectation)]).optional(),
    cpu: z.number().int().min(0).optional(),
    repeat: z.union([z.number().int().min(1), z.string()]).optional(),
    note: z.string().optional(),
    process: z.string().optional(),
  })
  .strict();

export const TaskSpec = z
  .object({
    name: z.string().min(1).max(15, "at most 15 characters (TASK_COMM_LEN)"),
    cpu: z.number().int().min(0),
    policy: z.union([z.enum(["normal", "fifo"]), z.string().regex(/^\$\{\w+\}$/, "normal, fifo or a ${param}")]).default("normal"),
    priority: z.number().int().min(1).max(99).optional(),
    /** The process (address space) the task runs in. */
    process: z.string().default("p0"),
    script: z.array(Step).min(1),
  })
  .strict();
export type TaskSpec = z.infer<typeof TaskSpec>;

export const ParamSpec = z
  .object({
    default: z.union([z.number(), z.string(), z.boolean()]),
    description: z.string(),
    /** Values `compare` sweeps and tests use; any value of the default's type is accepted. */
    values: z.array(z.union([z.number(), z.string(), z.boolean()])).optional(),
  })
  .strict();
export type ParamSpec = z.infer<typeof ParamSpec>;

export const MemorySpecSchema = z
  .object({
    Normal: z.number().int().min(0).optional(),
    DMA32: z.number().int().min(0).optional(),
    Movable: z.number().int().min(0).optional(),
    CMA: z.number().int().min(0).optional(),
  })
  .strict();

export const MachineSpec = z
  .object({
    cpus: z.union([z.number().int().min(1).max(64), z.string()]),
    preemption: z.union([z.enum(["none", "voluntary", "full"]), z.string().regex(/^\$\{\w+\}$/)]).default("voluntary"),
    memory: MemorySpecSchema.default({ Normal: 64 }),
    costs: z.record(z.string(), z.number().min(0)).optional(),
    livelock: z.object({ steps: z.number().int().min(1).optional(), ns: z.number().min(1).optional() }).strict().optional(),
    /**
     * How far (ns) one CPU may run ahead of another's earliest runnable operation
     * (default 50 us): the longest a task can be held off by interrupts and the like.
     */
    maxSkewNs: z.number().min(1).optional(),
  })
  .strict();
export type MachineSpec = z.infer<typeof MachineSpec>;

export const PromiseSpec = z
  .object({
    /** What the promise says, for `list` and reports. */
    summary: z.string(),
    /** Every task finishes: no deadlock, no livelock. */
    noHang: z.boolean().default(true),
    /** The memory model's invariants hold after every step. */
    invariants: z.boolean().default(true),
    /** Once the tasks finish, no pin, isolation or transient reference is left behind. */
    noLeaks: z.boolean().default(true),
  })
  .strict();

export const Scenario = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes"),
    title: z.string(),
    description: z.string(),
    source: z
      .object({
        seeds: z.array(z.string()).default([]),
        reference: z.string().optional(),
        note: z.string().optional(),
      })
      .strict(),
    params: z.record(z.string(), ParamSpec).default({}),
    machine: MachineSpec,
    setup: z.array(Step).default([]),
    tasks: z.array(TaskSpec).min(1),
    promise: PromiseSpec,
  })
  .strict();

export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
