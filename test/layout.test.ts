/** Memory planning without a kernel: ts/layout.ts sizes and places every buffer and table. */
import { describe, expect, it } from 'vitest';
import { ARENAS, allocate, planLayout, sharedMemoryDescriptor, type Allocator } from '../ts/layout.js';
import { controlWords } from '../ts/threads/control.js';
import { allocationBytes, WASM32_MAX_PAGES } from '../ts/wasm/kernel.js';
import { GROUP, STATS_GROUP_BYTES, TENSOR } from '../ts/wasm/layout.js';

/** A bump allocator that records each request, 16-byte aligned like alloc_f32. */
function recordingAllocator(): Allocator & { calls: { words: number; what: string; at: number }[] } {
  let next = 1024;
  const calls: { words: number; what: string; at: number }[] = [];
  return {
    calls,
    alloc(words, what) {
      const at = next;
      next += allocationBytes(words);
      calls.push({ words, what, at });
      return at;
    },
  };
}

describe('planLayout', () => {
  it('numbers params across groups in order, each with its group', () => {
    const plan = planLayout([{ params: [3, 5] }, { params: [7], lr: 0.5 }], { threads: 1 });
    expect(plan.flat.map((p) => [p.length, p.group])).toEqual([[3, 0], [5, 0], [7, 1]]);
    expect(plan.total).toBe(15);
    expect(plan.threads).toBe(1);
  });

  it('never gives a thread less than one f32x4 pair of elements', () => {
    expect(planLayout([16], { threads: 8, build: 'simd' }).threads).toBeLessThanOrEqual(2);
    expect(planLayout([1], { threads: 8, build: 'simd' }).threads).toBe(1);
  });

  it('runs one thread with the plain build, which has no threaded kernel', () => {
    expect(planLayout([1e6], { threads: 2, build: 'plain' }).threads).toBe(1);
  });

  it('counts every allocation in the bytes it needs, the thread control block too', () => {
    const one = planLayout([1000, 24], { threads: 1, build: 'simd' });
    const alloc = recordingAllocator();
    allocate(alloc, one);
    expect(one.needed).toBe(alloc.calls.reduce((n, c) => n + allocationBytes(c.words), 0));
  });

  it('refuses a layout beyond wasm32 memory before anything is allocated', () => {
    expect(() => planLayout([2 ** 28], { threads: 1 })).toThrow(/wasm32 memory is limited to 4294967296 bytes/);
  });

  it('bounds a shared memory by what the layout needs, and by wasm32', () => {
    const plan = planLayout([1e6], { threads: 1 });
    const d = sharedMemoryDescriptor(plan);
    expect(d.shared).toBe(true);
    expect(d.maximum).toBe(Math.ceil(plan.needed / 65536) + 64);
    expect(sharedMemoryDescriptor({ ...plan, needed: 2 ** 32 }).maximum).toBe(WASM32_MAX_PAGES);
  });
});

describe('allocate', () => {
  const plan = { ...planLayout([{ params: [5, 8] }, { params: [3] }], { threads: 1 }), threads: 2 };
  const alloc = recordingAllocator();
  const a = allocate(alloc, plan);

  it('puts each tensor at the same 16-byte-aligned offset in four skewed arenas', () => {
    const arenas = alloc.calls.slice(0, 4);
    expect(arenas.map((c) => c.words)).toEqual(ARENAS.map((arena) => 8 + 8 + 4 + arena.skew));
    a.buffers.forEach((b, i) => {
      b.forEach((address, k) => expect(address - b[0]!, `param ${i} buffer ${k}`).toBe(arenas[k]!.at + ARENAS[k]!.skew * 4 - arenas[0]!.at));
      expect(b[0]! % 16).toBe(0);
    });
    expect(a.buffers.map((b) => b[0]! - a.buffers[0]![0]!)).toEqual([0, 32, 64]);
  });

  it('sizes the tables and gives every thread its own stats region, and the control block', () => {
    const byWhat = Object.fromEntries(alloc.calls.map((c) => [c.what, c.words]));
    expect(byWhat['the tensor table']).toBe(3 * TENSOR.words);
    expect(byWhat['the group table']).toBe(2 * GROUP.words);
    expect(byWhat['the stats region']).toBe((2 * STATS_GROUP_BYTES) / 4);
    expect(byWhat['the thread control block']).toBe(controlWords(2));
    expect(a.table).toMatchObject({ nTensors: 3, nGroups: 2, total: 16 });
    expect(new Set(a.table.stats).size).toBe(2);
    expect(a.control).toBeDefined();
    expect(allocate(recordingAllocator(), { ...plan, threads: 1 }).control).toBeUndefined();
  });
});
