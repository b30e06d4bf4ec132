/**
 * Calls that need no memory model: sleeping and busy-waiting (kernel/time, delay.h).
 */

import { msleep, ndelay, sleepNs, usleep } from "@foliosim/sim";
import { z } from "zod";
import { defineCall } from "../calls.js";

defineCall({
  name: "msleep",
  summary: "msleep(ms): sleep at least ms, rounded up to jiffies plus one",
  args: z.object({ ms: z.number().min(0) }).strict(),
  returns: z.number(),
  *run(_ctx, a) {
    yield* msleep(a.ms);
    return 0;
  },
});

defineCall({
  name: "usleep",
  summary: "usleep_range(us, us): an exact hrtimer sleep",
  args: z.object({ us: z.number().min(0) }).strict(),
  returns: z.number(),
  *run(_ctx, a) {
    yield* usleep(a.us);
    return 0;
  },
});

defineCall({
  name: "sleep_ns",
  summary: "sleep for ns nanoseconds of virtual time",
  args: z.object({ ns: z.number().min(0) }).strict(),
  returns: z.number(),
  *run(_ctx, a) {
    yield* sleepNs(a.ns);
    return 0;
  },
});

defineCall({
  name: "ndelay",
  summary: "ndelay(ns): busy-wait, keeping the CPU",
  args: z.object({ ns: z.number().min(0) }).strict(),
  returns: z.number(),
  *run(_ctx, a) {
    yield* ndelay(a.ns);
    return 0;
  },
});
