/**
 * Kernels: a base preset plus variant choices. The ids are a contract (users, scripts
 * and tests rely on them); each maps to the options the modelled layers read from
 * `MachineConfig.kernel`.
 *
 * Option keys and their values (each value is a variant file in the package that
 * models the code it changes):
 * - `collect` (mm/gup.c `collect_longterm_unpinnable_folios` drain rule):
 *   pre-6.11 | will-v1 | hugh-v1 | john-memalloc-pin | 6.17 | 2026
 * - `gup-loop` (`__gup_longterm_locked` counting): count-collected | count-isolated
 * - `migrate` (mm/migrate.c retry policy): mainline | devjain-early-bail |
 *   david-waiters-backoff | david-waiters-backoff-inbatch | jhubbard-refcount-wait
 * - `lru-batch-clears-lru` (33dfe9204f29): on | off
 * - `lru-drain-all-local-first` (6.18: local lru_add_drain() first): on | off
 * - `ra-order` (mm/readahead.c `page_cache_ra_order`: +2 on entry up to 6.16, the
 *   order asked from 6.17): plus-2 | honour
 * - `finish-fault` (mm/memory.c `finish_fault`: which vmas map a large folio whole):
 *   per-page (≤ 6.10) | anon-shmem (6.11–6.16) | shmem (6.17) | file (6.18 on)
 * - `rmap-mlock-large` (mm/rmap.c: does an rmap addition mlock a large folio):
 *   small-only (≤ 6.17) | fully-mapped (6.18 on)
 * - `hmm` (device-private fault path): hmm-pre-6.15 | hmm-trylock-return |
 *   hmm-cond-resched | hmm-msleep | hmm-sleeping-wait | hmm-lru-cache-disable |
 *   hmm-drain-outside-lock
 * - `longterm-migrate-error` (`migrate_longterm_unpinnable_folios`: the errno of a failed
 *   `migrate_pages()`): enomem | jhubbard-umem-eagain
 *
 * Each option is a variation point of the layer that owns it (`defineVariationPoint`
 * in @foliosim/sim); a user variant registered with `registerVariant` is one more
 * value of its option. The points' defaults (what a machine built with no kernel
 * options runs) are the newest preset's values (kernels.test.ts pins that).
 */

import { pointValues } from "@foliosim/sim";

export const KERNEL_OPTIONS = {
  collect: ["pre-6.11", "will-v1", "hugh-v1", "john-memalloc-pin", "6.17", "2026"],
  "gup-loop": ["count-collected", "count-isolated"],
  migrate: ["mainline", "devjain-early-bail", "david-waiters-backoff", "david-waiters-backoff-inbatch", "jhubbard-refcount-wait"],
  "lru-batch-clears-lru": ["on", "off"],
  "lru-drain-all-local-first": ["on", "off"],
  "ra-order": ["plus-2", "honour"],
  "finish-fault": ["per-page", "anon-shmem", "shmem", "file"],
  "rmap-mlock-large": ["small-only", "fully-mapped"],
  hmm: [
    "hmm-pre-6.15",
    "hmm-trylock-return",
    "hmm-cond-resched",
    "hmm-msleep",
    "hmm-sleeping-wait",
    "hmm-lru-cache-disable",
    "hmm-drain-outside-lock",
  ],
  "longterm-migrate-error": ["enomem", "jhubbard-umem-eagain"],
} as const;

export type KernelOptionName = keyof typeof KERNEL_OPTIONS;
export type KernelOptions = { [K in KernelOptionName]: (typeof KERNEL_OPTIONS)[K][number] };

export interface KernelPreset {
  id: string;
  /** The preset it starts from ("—" for a base release). */
  base: string;
  /** The option values that differ from `base`. */
  variants: Partial<KernelOptions>;
  /** Where it comes from: a release, a commit, a thread. */
  source: string;
  /** One of the kernels `compare --all` shows first. */
  headline?: boolean;
}

const BASE_6_10: KernelOptions = {
  collect: "pre-6.11",
  "gup-loop": "count-collected",
  migrate: "mainline",
  "lru-batch-clears-lru": "off",
  "lru-drain-all-local-first": "off",
  "ra-order": "plus-2",
  "finish-fault": "per-page",
  "rmap-mlock-large": "small-only",
  hmm: "hmm-pre-6.15",
  "longterm-migrate-error": "enomem",
};

/**
 * The preset table (id → base, variants, source). Order is the display order. Every
 * release preset's `source` names the commits that make it differ from its base (the
 * mainline commit ids; stable backports have others); a proposal names its thread.
 * packages/scenarios/README.md maps each of them to the model file and function.
 */
export const KERNEL_PRESETS: readonly KernelPreset[] = [
  {
    id: "linux-6.10",
    base: "—",
    variants: {},
    source:
      "mainline ≤ 6.10: one lru_add_drain_all() per call for a folio without PG_lru (collect_longterm_unpinnable_folios), mlock batches since 2fbb0c10d1e8 (\"mm/munlock: mlock_page() munlock_page() batch by pagevec\", 5.18), do_swap_page takes a device-private folio's lock by reference and sleeps; page_cache_ra_order adds 2 to the order asked (large-folio readahead, 5.18 on); finish_fault maps one page of any folio; an rmap addition mlocks only a small folio (1acbc3f93614, Yin Fengwei, \"mm: handle large folio when large folio in VM_LOCKED VMA range\", 2023)",
    headline: true,
  },
  {
    id: "linux-6.11",
    base: "linux-6.10",
    variants: { "lru-batch-clears-lru": "on", "finish-fault": "anon-shmem" },
    source:
      "6.11–6.16: adds 33dfe9204f29 (Ge Yang, \"mm/gup: clear the LRU flag of a page before adding to LRU batch\"); and 43e027e41423 (Baolin Wang, \"mm: memory: extend finish_fault() to support large folio\", anonymous shmem mTHP, 6.11 merge window): finish_fault maps a large anonymous-shmem folio whole, tmpfs/memfd still one page",
    headline: true,
  },
  {
    id: "linux-6.15",
    base: "linux-6.11",
    variants: { hmm: "hmm-trylock-return" },
    source: "6.15: adds 1afaeb8293c9 (Matthew Brost, \"mm/migrate: Trylock device page in do_swap_page\")",
  },
  { id: "linux-6.16", base: "linux-6.15", variants: {}, source: "6.16 release: no change to the modelled paths" },
  {
    id: "linux-6.17",
    base: "linux-6.16",
    variants: { collect: "6.17", "lru-batch-clears-lru": "off", "ra-order": "honour", "finish-fault": "shmem" },
    source:
      "6.17: Hugh Dickins, \"mm: better GUP pin lru_add_drain_all()\" v2 (Sep 2025): 98c6d259319e (\"mm/gup: check ref_count instead of lru before migration\"), a09a8a1fbb37 (\"mm/gup: local lru_add_drain() to avoid lru_add_drain_all()\"), afb99e9f5004 (reverts 33dfe9204f29), 8d79ed36bfc8 (reverts \"mm: vmscan.c: fix OOM on swap stress test\"), 2da6de30e60d (\"mm: folio_may_be_lru_cached() unless folio_test_large()\"): the ref_count ladder with the +1 target; bdb86f6b8763 (Ryan Roberts, \"mm/readahead: honour new_order in page_cache_ra_order()\", patch 1/5 of \"Readahead tweaks for larger folios\" v5; merged with tags/mm-stable-2025-07-30-15-25 as beace86e61e4): a cold mmap fault on a large-folio file reads small folios; and e89d5bf3a4f9 (Baolin Wang, \"mm: fault in complete folios instead of individual pages for tmpfs\", same merge): finish_fault maps a large tmpfs/memfd folio whole",
    headline: true,
  },
  {
    id: "linux-6.18",
    base: "linux-6.17",
    variants: { "lru-drain-all-local-first": "on", "finish-fault": "file", "rmap-mlock-large": "fully-mapped" },
    source:
      "6.18 (\"[GIT PULL] MM updates for 6.18-rc1\", Andrew Morton, 1 Oct 2025, tags/mm-stable-2025-10-01-19-00): Hugh Dickins, \"mm: lru_add_drain_all() do local lru_add_drain() first\" (patch 7/7 of the same series); Kiryl Shutsemau, \"mm: Improve mlock tracking for large folios\" v3: 19773df031bc (\"mm/fault: try to map the entire file folio in finish_fault()\": any file folio is mapped whole) and ab521b4142aa (\"mm/rmap: improve mlock tracking for large folios\": an rmap addition that maps a whole large folio mlocks it)",
  },
  { id: "linux-6.19", base: "linux-6.18", variants: {}, source: "6.19 release: no change to the modelled paths" },
  {
    id: "linux-7.0",
    base: "linux-6.19",
    variants: { hmm: "hmm-sleeping-wait" },
    source:
      "7.0 (and 7.1, 7.2): adds b570f37a2ce4 (Thomas Hellström, \"mm: Fix a hmm_range_fault() livelock / starvation problem\": do_swap_page sleeps on the device-private folio lock); collect_longterm_unpinnable_folios still runs the 6.17 ladder with the +1 target",
    headline: true,
  },
  {
    id: "linux-7.3",
    base: "linux-7.0",
    variants: { collect: "2026" },
    source:
      "7.3: adds 078e1a0fc41a (\"mm/gup: fix always draining LRU caches in collect_longterm_unpinnable_folios()\": the ladder's target is the pin references) and fc6415a384f0 (\"mm/gup: factor out LRU cache draining for folio into lru_cache_drain_for_folio()\"), merged with mm-stable-2026-08-26-15-22 (18fbf5151d2c) in the 7.3 merge window, after 7.2 and before 7.3-rc1",
    headline: true,
  },
  { id: "will-v1", base: "linux-6.11", variants: { collect: "will-v1" }, source: "Will Deacon, \"mm/gup: Drain batched mlock folio processing before attempting migration\" (Aug 2025)" },
  {
    id: "hugh-v1",
    base: "linux-6.11",
    variants: { collect: "hugh-v1" },
    source: "Hugh Dickins' first reply in the same thread (16 Aug 2025): drain all when mlocked && !unevictable, plus an unconditional local lru_add_drain() at the head of collect_longterm_unpinnable_folios() (accepted by Will Deacon)",
  },
  { id: "john-memalloc-pin", base: "linux-6.11", variants: { collect: "john-memalloc-pin" }, source: "John Hubbard's suggestion in the same thread: flush the mlock batch in mlock_new_folio() under PF_MEMALLOC_PIN" },
  { id: "gup-count-isolated", base: "linux-6.11", variants: { "gup-loop": "count-isolated" }, source: "1aaf8c122918 (\"mm: gup: fix infinite loop within __get_longterm_locked\", 2025), reverted by 517f496e1e61" },
  { id: "devjain-early-bail", base: "linux-7.3", variants: { migrate: "devjain-early-bail" }, source: "Dev Jain, \"mm: Retry migration earlier upon refcount mismatch\" (Aug 2024), on the newest release" },
  {
    id: "david-waiters-backoff",
    base: "linux-7.3",
    variants: { migrate: "david-waiters-backoff" },
    source: "David Hildenbrand's reply to Dev Jain (Aug 2024): on a move-stage -EAGAIN with PG_waiters, undo and leave the folio to the caller's retry; on the newest release",
  },
  {
    id: "jhubbard-refcount-wait",
    base: "linux-7.3",
    variants: { migrate: "jhubbard-refcount-wait" },
    source: "John Hubbard, RFC \"mm/migrate: wait for folio refcount during longterm pin migration\" (Apr 2026), on the newest release",
  },
  { id: "hmm-cond-resched", base: "linux-6.19", variants: { hmm: "hmm-cond-resched" }, source: "Thomas Hellström, v1 of the hmm_range_fault() livelock fix (Jan 2026): cond_resched() in the re-walk" },
  { id: "hmm-msleep", base: "linux-6.19", variants: { hmm: "hmm-msleep" }, source: "Andrew Morton's suggestion in the same thread: sleep in the loop" },
  { id: "hmm-lru-cache-disable", base: "linux-6.19", variants: { hmm: "hmm-lru-cache-disable" }, source: "John Hubbard's diff in the same thread: lru_cache_disable()/enable() around migrate_vma_setup()" },
  { id: "hmm-drain-outside-lock", base: "linux-6.19", variants: { hmm: "hmm-drain-outside-lock" }, source: "Thomas Hellström's proposal in the same thread: unlock, drain, collect again" },
];

/** The newest release preset: what a machine built without a preset runs. */
export const NEWEST_PRESET = "linux-7.3";

export class KernelError extends Error {
  override readonly name = "KernelError";
}

export interface ResolvedKernel {
  /** The preset id, with overrides appended (`linux-6.11+collect=will-v1`). */
  id: string;
  preset: KernelPreset;
  options: KernelOptions;
  overrides: Partial<KernelOptions>;
}

function presetById(id: string): KernelPreset {
  const p = KERNEL_PRESETS.find((k) => k.id === id);
  if (!p) throw new KernelError(`unknown kernel "${id}"${suggest(id, KERNEL_PRESETS.map((k) => k.id))}; valid kernels: ${KERNEL_PRESETS.map((k) => k.id).join(", ")}`);
  return p;
}

/** The full option set of a preset (its base chain applied in order). */
export function presetOptions(id: string): KernelOptions {
  const chain: KernelPreset[] = [];
  for (let p: KernelPreset | undefined = presetById(id); p; p = p.base === "—" ? undefined : presetById(p.base)) chain.unshift(p);
  const options: KernelOptions = { ...BASE_6_10 };
  for (const p of chain) Object.assign(options, p.variants);
  return options;
}

/** The full option values of the newest release preset (`NEWEST_PRESET`). */
export function newestPreset(): KernelOptions {
  return presetOptions(NEWEST_PRESET);
}

/** Parse `name=value` overrides, e.g. `collect=will-v1`, `lru-batch-clears-lru=on`. */
export function parseOverrides(items: readonly string[]): Partial<KernelOptions> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? "" : item.slice(eq + 1);
    if (!(name in KERNEL_OPTIONS)) {
      const names = Object.keys(KERNEL_OPTIONS);
      throw new KernelError(`unknown kernel option "${name}"${suggest(name, names)}; valid options: ${names.join(", ")}`);
    }
    // Built-in values, then user variants registered for the point (`--variant`).
    const builtin = KERNEL_OPTIONS[name as KernelOptionName] as readonly string[];
    const valid = [...builtin, ...pointValues(name).filter((v) => !builtin.includes(v))];
    if (!valid.includes(value)) {
      throw new KernelError(`invalid value "${value}" for kernel option ${name}${suggest(value, valid)}; valid values: ${valid.join(", ")}`);
    }
    out[name] = value;
  }
  return out as Partial<KernelOptions>;
}

/** Resolve a kernel id plus overrides to the options the model reads. */
export function resolveKernel(id: string, overrides: Partial<KernelOptions> | readonly string[] = {}): ResolvedKernel {
  const preset = presetById(id);
  const ov = Array.isArray(overrides) ? parseOverrides(overrides as readonly string[]) : (overrides as Partial<KernelOptions>);
  const options = { ...presetOptions(id), ...ov };
  const suffix = Object.entries(ov)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return { id: suffix ? `${id}+${suffix}` : id, preset, options, overrides: ov };
}

/** The `MachineConfig.kernel` record: booleans for on/off options, strings otherwise. */
export function machineKernelOptions(k: ResolvedKernel): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [name, value] of Object.entries(k.options)) out[name] = value === "on" ? true : value === "off" ? false : value;
  return out;
}

export function headlineKernels(): string[] {
  return KERNEL_PRESETS.filter((k) => k.headline).map((k) => k.id);
}

/** ` (did you mean "x"?)` for the closest valid name, by edit distance. */
export function suggest(input: string, valid: readonly string[]): string {
  const lower = input.toLowerCase();
  const prefixed = valid.filter((v) => lower.length >= 3 && (v.toLowerCase().startsWith(lower) || lower.startsWith(v.toLowerCase())));
  // Several ids extend the input (pkvm-mlock-cma, pkvm-mlock-cma-concurrent): the shortest is the closest.
  if (prefixed.length >= 1) return ` (did you mean "${[...prefixed].sort((a, b) => editDistance(lower, a.toLowerCase()) - editDistance(lower, b.toLowerCase()))[0]}"?)`;
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const d = editDistance(input.toLowerCase(), v.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = v;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(input.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
