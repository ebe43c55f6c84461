/**
 * Memory planning: everything creation decides before touching wasm (validated groups, build,
 * thread count, bytes needed), and where each buffer and table goes. Nothing here instantiates
 * wasm: `allocate` takes any allocator, so the layout is testable without a kernel.
 */
import { AdadeltaError } from './errors.js';
import { resolveGroups, resolveOptions, type AdadeltaOptions, type GroupSpec, type ParamSpec } from './options.js';
import { controlWords } from './threads/control.js';
import { coreCount, threadsUnavailable } from './threads/environment.js';
import { allocationBytes, PAGE, WASM32_MAX_BYTES, WASM32_MAX_PAGES } from './wasm/kernel.js';
import { GROUP, NORM_BLOCK, STATS_GROUP_BYTES, TENSOR } from './wasm/layout.js';
import { hasKernel, resolveBuild } from './wasm/load.js';
import type { KernelSources } from './wasm/source.js';
import type { StepTable } from './wasm/step.js';

/** The bytes a shared memory needs beyond the buffers: the kernel's stack and data, slack for
 * the allocator, and each worker's stack and TLS. */
const SHARED_MEMORY_SLACK = 2 * 1024 * 1024;
/** 'auto' threads: the fewest elements worth a thread (about 50 µs of one thread's work). */
const AUTO_MIN_ELEMENTS_PER_THREAD = 65536;
/** At least the threads build's declared minimum (its stack and data; test/threads.test.ts checks). */
const SHARED_MEMORY_INITIAL_PAGES = 32;

/** Everything creation decides before touching wasm. */
export interface LayoutPlan {
  specs: GroupSpec[];
  /** Every param in order, with its group's index. */
  flat: (ParamSpec & { group: number })[];
  total: number;
  build: 'simd' | 'plain';
  threads: number;
  initialAccDelta: number;
  /** Kernels the user gave (the `wasm` option). */
  wasm: KernelSources;
  /** Bytes of wasm memory the optimizer's buffers need. */
  needed: number;
}

/** The four buffers of every param, in this order; skews in f32 words (64 bytes apart). */
export const ARENAS = [
  { name: 'params', skew: 0 },
  { name: 'grads', skew: 16 },
  { name: 'square averages', skew: 32 },
  { name: 'update averages', skew: 48 },
] as const;

function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Words of one arena: each tensor rounded up to 16 bytes. */
function arenaWords(flat: readonly { length: number }[]): number {
  return flat.reduce((n, p) => n + roundUp4(p.length), 0);
}

/** The blocks of a gradient norm's sum over `total` elements: one f64 each (StepTable.norms). */
export function normBlocks(total: number): number {
  return Math.ceil(total / NORM_BLOCK);
}

/** Validates everything the user gave and sizes the memory. */
export function planLayout(groups: unknown, defaults: AdadeltaOptions | undefined): LayoutPlan {
  const options = resolveOptions(defaults);
  const specs = resolveGroups(groups, options.hyper);
  const flat = specs.flatMap((g, gi) => g.params.map((p) => ({ ...p, group: gi })));
  const total = flat.reduce((n, p) => n + p.length, 0);
  const build = resolveBuild(options.build);
  // Threads run the SIMD kernel over a shared memory; without either, one thread it is.
  // 'auto' gives each thread at least AUTO_MIN_ELEMENTS_PER_THREAD elements: below that, handing
  // a step to a worker costs more than the worker saves. An explicit count is taken as asked.
  let threads = options.threads === 'auto' ? Math.min(coreCount(), Math.ceil(total / AUTO_MIN_ELEMENTS_PER_THREAD)) : options.threads;
  if (threads > 1 && (build !== 'simd' || threadsUnavailable() !== undefined || !hasKernel('threads', options.wasm))) threads = 1;
  threads = Math.max(1, Math.min(threads, Math.ceil(total / 8)));
  const needed =
    ARENAS.reduce((n, arena) => n + allocationBytes(arenaWords(flat) + arena.skew), 0) +
    allocationBytes(flat.length * TENSOR.words) +
    allocationBytes(specs.length * GROUP.words) +
    threads * allocationBytes((specs.length * STATS_GROUP_BYTES) / 4) +
    allocationBytes(2 * normBlocks(total)) +
    (threads > 1 ? allocationBytes(controlWords(threads)) + SHARED_MEMORY_SLACK * (1 + threads) : 0);
  if (needed > WASM32_MAX_BYTES) {
    throw new AdadeltaError(
      `${flat.length} params of ${total} elements need ${needed} bytes of wasm memory (params, grads and two state buffers); wasm32 memory is limited to ${WASM32_MAX_BYTES} bytes (4 GiB)`,
      'groups',
    );
  }
  return { specs, flat, total, build, threads, initialAccDelta: options.initialAccDelta, wasm: options.wasm, needed };
}

/** The shared memory of a threaded optimizer. It starts small: the allocator grows the memory
 * itself and would not use pages it did not grow. The maximum bounds what the engine reserves
 * for a memory that cannot move. */
export function sharedMemoryDescriptor(plan: LayoutPlan): WebAssembly.MemoryDescriptor {
  const pages = Math.ceil(plan.needed / PAGE);
  return { initial: SHARED_MEMORY_INITIAL_PAGES, maximum: Math.min(WASM32_MAX_PAGES, pages + 64), shared: true };
}

/** Where every buffer and table went (byte addresses). */
export interface Allocation {
  /** Per param: the byte addresses of data, grad, squareAvg and accDelta. */
  buffers: (readonly [number, number, number, number])[];
  table: StepTable;
  /** The thread control block (`controlWords(threads)` words), with threads only. */
  control: number | undefined;
}

/** Anything that hands out zeroed 4-byte words by byte address (a KernelInstance). */
export interface Allocator {
  alloc(words: number, what: string): number;
}

/** Allocates every buffer and table. An allocation may grow the memory, which detaches views:
 * views are made only after this. */
export function allocate(allocator: Allocator, plan: LayoutPlan): Allocation {
  // Four arenas, one per kind of buffer, each tensor at the same 16-byte-aligned offset in
  // each. Keeping a tensor's four buffers in one allocation after another was measured at 1.4
  // ns/param for 1,000 tensors of 1,000 (against 0.5 for one tensor): with the streams a few
  // KiB apart, their cache lines collide. The skews keep the arenas' starts off one another.
  const words = arenaWords(plan.flat);
  const bases = ARENAS.map((arena) => allocator.alloc(words + arena.skew, `the ${arena.name} of ${plan.total} elements`) + arena.skew * 4);
  let offset = 0;
  const buffers = plan.flat.map((p) => {
    const at = offset * 4;
    offset += roundUp4(p.length);
    return [bases[0]! + at, bases[1]! + at, bases[2]! + at, bases[3]! + at] as const;
  });
  const tensors = allocator.alloc(plan.flat.length * TENSOR.words, 'the tensor table');
  const groups = allocator.alloc(plan.specs.length * GROUP.words, 'the group table');
  const stats = Array.from({ length: plan.threads }, () => allocator.alloc((plan.specs.length * STATS_GROUP_BYTES) / 4, 'the stats region'));
  const norms = allocator.alloc(2 * normBlocks(plan.total), 'the gradient norm blocks');
  const control = plan.threads > 1 ? allocator.alloc(controlWords(plan.threads), 'the thread control block') : undefined;
  return {
    buffers,
    table: { tensors, nTensors: plan.flat.length, groups, nGroups: plan.specs.length, total: plan.total, stats, norms },
    control,
  };
}
