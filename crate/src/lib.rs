//! adadelta-wasm: the Adadelta step of `torch.optim.Adadelta`, fused into one pass over
//! `param, grad, square_avg, acc_delta` in wasm linear memory.
//!
//! The JS side owns the layout: it allocates every buffer once, through `alloc_f32`, writes a
//! descriptor table (see `table.rs`) and then calls `step` once per optimizer step. Nothing
//! here allocates after creation, so the views JS hands out never move.
//!
//! The same source builds twice: with `-C target-feature=+simd128` the per-tensor step is the
//! f32x4 loop of `simd.rs`, without it the scalar loop of `scalar.rs`. Both are bit-identical.

pub mod clip;
pub mod layout;
pub mod scalar;
pub mod stats;
pub mod table;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd;

use std::alloc::{Layout, alloc_zeroed};
use wasm_bindgen::prelude::*;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::{clamp_grads as tensor_clamp, grad_sums as tensor_grad_sums, scale_grads as tensor_scale, step as tensor_step, step_stats as tensor_step_stats};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use {
    clip::{clamp_grads as tensor_clamp, grad_sums as tensor_grad_sums, scale_grads as tensor_scale},
    scalar::{step as tensor_step, step_stats as tensor_step_stats},
};

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
/// Each gradient is first multiplied by `grad_scale` (1, or a fused clip's coefficient).
#[wasm_bindgen]
pub fn step(tensors: *mut u32, n_tensors: usize, groups: *const f32, n_groups: usize, begin: usize, end: usize, grad_scale: f32) {
    for_each_slice(tensors, n_tensors, groups, n_groups, begin, end, grad_scale, |slice, h, _| {
        let (p, g, sq, acc) = slice;
        tensor_step(p, g, sq, acc, h);
    });
}

/// `step`, also filling the stats region at `stats_ptr` (`stats.rs` gives its layout:
/// per group `STATS_F64` f64 words, then per group `HIST_BINS` u32 bins). The region is reset
/// first, so it describes exactly this call's range.
#[wasm_bindgen]
#[allow(clippy::not_unsafe_ptr_arg_deref, clippy::too_many_arguments)] // the only caller is our own TS
pub fn step_stats(tensors: *mut u32, n_tensors: usize, groups: *const f32, n_groups: usize, begin: usize, end: usize, stats_ptr: *mut u8, stalled_below: f32, grad_scale: f32) {
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
    for_each_slice(tensors, n_tensors, groups, n_groups, begin, end, grad_scale, |slice, h, group| {
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

/// The records of the tensor table, and the element range each covers, skipping frozen
/// tensors: `(record index, record, global offset of its first element)`.
///
/// SAFETY (of the callers): `tensors` points at `n_tensors` records laid out as `table.rs`
/// says, whose buffers came from `alloc_f32(len)`, are distinct, and stay allocated for the
/// duration of the call. Threads walk one table at once: each writes only the elements of its
/// own range and the step words of the tensors that start in it.
fn active_tensors(tensors: *const u32, n_tensors: usize, end: usize) -> impl Iterator<Item = (usize, table::TensorRecord, usize)> {
    // Each record is read through a slice that stops short of its step word, which the thread
    // owning the tensor's first element writes while other threads walk the table.
    const _: () = assert!(table::TENSOR_STEP == table::TENSOR_WORDS - 1, "the step word must be the record's last");
    (0..n_tensors)
        .map(move |i| {
            // SAFETY: see above; record i's first TENSOR_STEP words are in the table.
            let words = unsafe { std::slice::from_raw_parts(tensors.add(i * table::TENSOR_WORDS), table::TENSOR_STEP) };
            table::TensorRecord::read(words)
        })
        .scan(0usize, |offset, t| {
            let at = *offset;
            *offset += t.len;
            Some((t, at))
        })
        .enumerate()
        .take_while(move |(_, (_, at))| *at < end)
        .filter(|(_, (t, _))| t.requires_grad)
        .map(|(i, (t, at))| (i, t, at))
}

/// Walks the table and calls `f` with the part of each stepping tensor inside `[begin, end)`,
/// its group's hyperparameters (with `grad_scale`) and the group index. A tensor's step count
/// is bumped by the one thread whose range holds its first element.
#[allow(clippy::not_unsafe_ptr_arg_deref, clippy::too_many_arguments)] // the only caller is our own TS, which keeps the invariant
fn for_each_slice(tensors: *mut u32, n_tensors: usize, groups: *const f32, n_groups: usize, begin: usize, end: usize, grad_scale: f32, mut f: impl FnMut(Slices, &scalar::Hyper, usize)) {
    // SAFETY: see `active_tensors`; `groups` points at `n_groups` records.
    let group_words = unsafe { std::slice::from_raw_parts(groups, n_groups * table::GROUP_WORDS) };
    for (i, t, offset) in active_tensors(tensors, n_tensors, end) {
        let (lo, hi) = (begin.max(offset), end.min(offset + t.len));
        if lo >= hi {
            continue;
        }
        let h = scalar::Hyper { grad_scale, ..table::read_group(&group_words[t.group * table::GROUP_WORDS..][..table::GROUP_WORDS]) };
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
        if from == 0 {
            // SAFETY: in the table; no other thread writes (or reads) this tensor's step word.
            unsafe {
                let step = tensors.add(i * table::TENSOR_WORDS + table::TENSOR_STEP);
                *step = (*step).wrapping_add(1);
            }
        }
    }
}

/// Calls `f` with each piece of the stepping tensors' gradients inside `[begin, end)`, cut at
/// the `NORM_BLOCK` boundaries, and the piece's block index.
fn for_each_grad_piece(tensors: *const u32, n_tensors: usize, begin: usize, end: usize, mut f: impl FnMut(&mut [f32], usize)) {
    for (_, t, offset) in active_tensors(tensors, n_tensors, end) {
        let mut lo = begin.max(offset);
        let hi = end.min(offset + t.len);
        while lo < hi {
            let block = lo / layout::NORM_BLOCK;
            let piece_end = hi.min((block + 1) * layout::NORM_BLOCK);
            // SAFETY: see `active_tensors`; `[lo, piece_end)` lies in this tensor and this range.
            let g = unsafe { std::slice::from_raw_parts_mut((t.grad as *mut f32).add(lo - offset), piece_end - lo) };
            f(g, block);
            lo = piece_end;
        }
    }
}

/// The blocks of `[begin, end)` for `clip_grad_norm_`: for each `NORM_BLOCK` of elements, the
/// sum of `|g|^norm_type` over the stepping tensors (for an infinite `norm_type`, the largest
/// `|g|`), written to `blocks[b]` (f64). `begin` is a multiple of `NORM_BLOCK`, so each block is
/// this call's alone; `clip.rs` says why the order is fixed.
#[wasm_bindgen]
#[allow(clippy::not_unsafe_ptr_arg_deref)] // the only caller is our own TS
pub fn grad_norm(tensors: *const u32, n_tensors: usize, begin: usize, end: usize, norm_type: f64, blocks: *mut f64) {
    if begin >= end {
        return;
    }
    let (first, last) = (begin / layout::NORM_BLOCK, end.div_ceil(layout::NORM_BLOCK));
    // SAFETY: invariant of the caller: `blocks` holds `ceil(total / NORM_BLOCK)` f64 words, and
    // threads' ranges start at multiples of NORM_BLOCK, so these blocks are this call's.
    let blocks = unsafe { std::slice::from_raw_parts_mut(blocks.add(first), last - first) };
    blocks.fill(0.0);
    for_each_grad_piece(tensors, n_tensors, begin, end, |g, block| {
        let b = &mut blocks[block - first];
        *b = clip::combine(*b, tensor_grad_sums(g, norm_type), norm_type);
    });
}

/// `grad *= scale` over the stepping tensors' gradients in `[begin, end)` (`clip_grad_norm_`).
#[wasm_bindgen]
pub fn scale_grads(tensors: *const u32, n_tensors: usize, begin: usize, end: usize, scale: f32) {
    for_each_grad_piece(tensors, n_tensors, begin, end, |g, _| tensor_scale(g, scale));
}

/// `grad = clamp(grad, -clip, clip)` over the stepping tensors' gradients in `[begin, end)`
/// (`clip_grad_value_`).
#[wasm_bindgen]
pub fn clamp_grads(tensors: *const u32, n_tensors: usize, begin: usize, end: usize, clip: f32) {
    for_each_grad_piece(tensors, n_tensors, begin, end, |g, _| tensor_clamp(g, clip));
}

/// Whether this build's kernel is the simd128 one.
#[wasm_bindgen]
pub fn simd128() -> bool {
    cfg!(all(target_arch = "wasm32", target_feature = "simd128"))
}
