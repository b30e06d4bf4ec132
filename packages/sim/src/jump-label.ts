/**
 * Static keys (kernel/jump_label.c `static_key_slow_inc/dec`, arch/x86/kernel/
 * alternative.c `text_poke_bp_batch`).
 *
 * Counted enables: only the 0→1 and 1→0 transitions patch code. A patch rewrites every
 * site of the key in batches of `sitesPerBatch`, each batch costing
 * `ipiRoundsPerBatch` IPI broadcasts (int3, new bytes, first byte: one sync each), plus
 * `jumpLabelPerSite` per site. Patching is serialised by `jump_label_mutex`.
 * Reading a key (`static_branch_unlikely`) is a patched branch: task-local, free.
 */

import { currentMachine, noteRead, type Machine } from "./machine.js";
import { Mutex, mutexLock, mutexUnlock } from "./locking.js";
import { op, Shared, type TaskGen } from "./op.js";
import { ipiBroadcastNow } from "./smp.js";

export class StaticKey extends Shared {
  count = 0;
  constructor(
    name: string,
    /** Patch sites; defaults to the machine's jump-label model. */
    readonly sites?: number,
  ) {
    super(name);
  }
}

/** `static_branch_unlikely(&key)`: is the key enabled? */
export function staticKeyEnabled(key: StaticKey): boolean {
  noteRead(key); // a patched branch taken inside a step whose footprint cannot name the key (folio_put's hooks)
  return key.count > 0;
}

const JUMP_LABEL_MUTEX = Symbol("jump_label_mutex");

function jumpLabelMutex(m: Machine): Mutex {
  let mu = m.ext.get(JUMP_LABEL_MUTEX) as Mutex | undefined;
  if (!mu) {
    mu = new Mutex("jump_label_mutex");
    m.ext.set(JUMP_LABEL_MUTEX, mu);
  }
  return mu;
}

/** Patch every site of `key` now, from `cpu`: returns the IPI broadcasts sent. */
function patchNow(m: Machine, key: StaticKey, cpu: number, enable: boolean): number {
  const model = m.jumpLabel;
  const sites = key.sites ?? model.sites;
  const batches = Math.ceil(sites / model.sitesPerBatch);
  const rounds = batches * model.ipiRoundsPerBatch;
  m.count("static_key_patch");
  m.event("static_key", key.name).arg("enabled", enable).arg("sites", sites).arg("batches", batches).arg("ipiBroadcasts", rounds);
  m.chargeCpu(cpu, sites * m.cost("jumpLabelPerSite"));
  for (let i = 0; i < rounds; i++) ipiBroadcastNow(m, cpu, () => undefined, "text_poke_sync");
  return rounds;
}

/** `static_key_slow_inc`. */
export function* staticKeySlowInc(key: StaticKey): TaskGen<void> {
  // Fast path: atomic_inc_not_zero on an already enabled key.
  const done = yield* op({
    kind: "static_key_inc_fast",
    label: `static_key_slow_inc(${key.name})`,
    writes: [key],
    cost: "atomic",
    run: (m) => {
      if (key.count === 0) return false;
      key.count++;
      m.markWrite(key);
      return true;
    },
  });
  if (done) return;
  const mu = jumpLabelMutex(currentMachine());
  yield* mutexLock(mu);
  yield* op({
    kind: "static_key_enable",
    label: `jump_label_update(${key.name})`,
    writes: [key],
    cost: "atomic",
    run: (m, t) => {
      if (key.count === 0) patchNow(m, key, t.cpu, true);
      key.count++;
      m.markWrite(key);
    },
  });
  yield* mutexUnlock(mu);
}

/** `static_key_slow_dec`. */
export function* staticKeySlowDec(key: StaticKey): TaskGen<void> {
  const done = yield* op({
    kind: "static_key_dec_fast",
    label: `static_key_slow_dec(${key.name})`,
    writes: [key],
    cost: "atomic",
    run: (m) => {
      if (key.count <= 1) return false; // atomic_dec_not_one failed: take the slow path
      key.count--;
      m.markWrite(key);
      return true;
    },
  });
  if (done) return;
  const mu = jumpLabelMutex(currentMachine());
  yield* mutexLock(mu);
  yield* op({
    kind: "static_key_disable",
    label: `jump_label_update(${key.name})`,
    writes: [key],
    cost: "atomic",
    run: (m, t) => {
      if (key.count <= 0) throw new Error(`static_key_slow_dec(${key.name}): count underflow`);
      key.count--;
      if (key.count === 0) patchNow(m, key, t.cpu, false);
      m.markWrite(key);
    },
  });
  yield* mutexUnlock(mu);
}
