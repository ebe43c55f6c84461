//! adadelta-wasm: the Adadelta step of `torch.optim.Adadelta`, fused into one pass over
//! `param, grad, square_avg, acc_delta` in wasm linear memory.
//!
//! The JS side owns the layout: it allocates every buffer once, through `alloc_f32`, writes a
//! descriptor table (see `table.rs`) and then calls `step` once per optimizer step. Nothing
//! here allocates after creation, so the views JS hands out never move.
//!
//! The same source builds twice: with `-C target-feature=+simd128` the per-tensor step is the
//! f32x4 loop of `simd.rs`, without it the scalar loop of `scalar.rs`. Both are bit-identical.

pub mod layout;
pub mod scalar;
pub mod stats;
pub mod table;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd;

use std::alloc::{Layout, alloc_zeroed};
use wasm_bindgen::prelude::*;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::{step as tensor_step, step_stats as tensor_step_stats};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use scalar::{step as tensor_step, step_stats as tensor_step_stats};

/// Buffers are 16-byte aligned: one f32x4 per aligned load where the length allows.
const ALIGN: usize = 16;

/// Allocates `len` zeroed 4-byte words (f32 or u32). Returns 0 when the memory cannot grow
/// that far (the caller turns that into an `AdadeltaError`), never traps. Nothing is freed one
/// buffer at a time: each optimizer owns an instance, whose memory goes away whole.
#[wasm_bindgen]
pub fn alloc_f32(len: usize) -> *mut f32 {
    let layout = len.checked_mul(4).and_then(|bytes| Layout::from_size_align(bytes.max(ALIGN), ALIGN).ok());
    match layout {
        // SAFETY: the layout has a non-zero size (at least ALIGN bytes).
        Some(layout) => unsafe { alloc_zeroed(layout) as *mut f32 },
        None => std::ptr::null_mut(),
    }
}

/// One Adadelta step over the elements `[begin, end)` of the concatenation of all tensors of
/// the table, in table order. One thread passes `0..total`; several threads split the range.
#[wasm_bindgen]
pub fn step(tensors: *const u32, n_tensors: usize, groups: *const f32, n_groups: usize, begin: usize, end: usize) {
    for_each_slice(tensors, n_tensors, groups, n_groups, begin, end, |slice, h, _| {
        let (p, g, sq, acc) = slice;
        tensor_step(p, g, sq, acc, h);
    });
}

/// `step`, also filling the stats region at `stats_ptr` (`stats.rs` gives its layout:
/// per group `STATS_F64` f64 words, then per group `HIST_BINS` u32 bins). The region is reset
/// first, so it describes exactly this call's range.
#[wasm_bindgen]
#[allow(clippy::not_unsafe_ptr_arg_deref, clippy::too_many_arguments)] // the only caller is our own TS
pub fn step_stats(tensors: *const u32, n_tensors: usize, groups: *const f32, n_groups: usize, begin: usize, end: usize, stats_ptr: *mut u8, stalled_below: f32) {
    // SAFETY: invariant of the caller: `stats_ptr` is 8-byte aligned and points at
    // `n_groups * layout::STATS_GROUP_BYTES` bytes that nothing else uses during the call.
    let (words, hist) = unsafe {
        (
            std::slice::from_raw_parts_mut(stats_ptr as *mut f64, n_groups * stats::STATS_F64),
            std::slice::from_raw_parts_mut(stats_ptr.add(n_groups * stats::STATS_F64 * 8) as *mut u32, n_groups * stats::HIST_BINS),
        )
    };
    // No Vec here: nothing may allocate after creation, or the memory could grow and detach
    // every view the JS side holds.
    for (w, b) in words.chunks_exact_mut(stats::STATS_F64).zip(hist.chunks_exact_mut(stats::HIST_BINS)) {
        stats::Accumulator { words: w, hist: b.try_into().unwrap(), stalled_below }.reset();
    }
    for_each_slice(tensors, n_tensors, groups, n_groups, begin, end, |slice, h, group| {
        let (p, g, sq, acc) = slice;
        let mut accumulator = stats::Accumulator {
            words: &mut words[group * stats::STATS_F64..][..stats::STATS_F64],
            hist: (&mut hist[group * stats::HIST_BINS..][..stats::HIST_BINS]).try_into().unwrap(),
            stalled_below,
        };
        tensor_step_stats(p, g, sq, acc, h, &mut accumulator);
    });
}

type Slices<'a> = (&'a mut [f32], &'a [f32], &'a mut [f32], &'a mut [f32]);

/// Walks the table and calls `f` with the part of each tensor inside `[begin, end)`, its
/// group's hyperparameters and the group index.
#[allow(clippy::not_unsafe_ptr_arg_deref)] // the only caller is our own TS, which keeps the invariant
fn for_each_slice(tensors: *const u32, n_tensors: usize, groups: *const f32, n_groups: usize, begin: usize, end: usize, mut f: impl FnMut(Slices, &scalar::Hyper, usize)) {
    // SAFETY: invariant of the caller: `tensors` points at `n_tensors` records and `groups` at
    // `n_groups` records, laid out as `table.rs` says, and each record's four buffers came from
    // `alloc_f32(len)`, are distinct and stay allocated for the duration of the call.
    let tensor_words = unsafe { std::slice::from_raw_parts(tensors, n_tensors * table::TENSOR_WORDS) };
    let group_words = unsafe { std::slice::from_raw_parts(groups, n_groups * table::GROUP_WORDS) };
    let mut offset = 0usize;
    for record in tensor_words.chunks_exact(table::TENSOR_WORDS) {
        let t = table::TensorRecord::read(record);
        let (lo, hi) = (begin.max(offset), end.min(offset + t.len));
        if lo < hi {
            let h = table::read_group(&group_words[t.group * table::GROUP_WORDS..][..table::GROUP_WORDS]);
            let (from, n) = (lo - offset, hi - lo);
            // SAFETY: see above; `from + n <= t.len`, and the four buffers do not overlap, so the
            // mutable slices are disjoint.
            let slices = unsafe {
                (
                    std::slice::from_raw_parts_mut((t.param as *mut f32).add(from), n),
                    std::slice::from_raw_parts((t.grad as *const f32).add(from), n),
                    std::slice::from_raw_parts_mut((t.square_avg as *mut f32).add(from), n),
                    std::slice::from_raw_parts_mut((t.acc_delta as *mut f32).add(from), n),
                )
            };
            f(slices, &h, t.group);
        }
        offset += t.len;
        if offset >= end {
            break;
        }
    }
}

/// Whether this build's kernel is the simd128 one.
#[wasm_bindgen]
pub fn simd128() -> bool {
    cfg!(all(target_arch = "wasm32", target_feature = "simd128"))
}
