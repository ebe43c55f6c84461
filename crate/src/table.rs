//! The descriptor table that one `step` call walks: the layout shared with `ts/wasm/table.ts`.
//! A test on the TS side reads these offsets through the `layout_*` exports and checks that
//! its own constants agree.
//!
//! Tensor records are `TENSOR_WORDS` u32 words each; group records `GROUP_WORDS` f32 words each.

/// Tensor record fields (u32 word offsets).
pub const TENSOR_PARAM: usize = 0;
pub const TENSOR_GRAD: usize = 1;
pub const TENSOR_SQUARE_AVG: usize = 2;
pub const TENSOR_ACC_DELTA: usize = 3;
pub const TENSOR_LEN: usize = 4;
pub const TENSOR_GROUP: usize = 5;
pub const TENSOR_WORDS: usize = 6;

/// Group record fields (f32 word offsets). `MAXIMIZE` is 0.0 or 1.0.
pub const GROUP_LR: usize = 0;
pub const GROUP_RHO: usize = 1;
pub const GROUP_ONE_MINUS_RHO: usize = 2;
pub const GROUP_EPS: usize = 3;
pub const GROUP_WEIGHT_DECAY: usize = 4;
pub const GROUP_MAXIMIZE: usize = 5;
pub const GROUP_WORDS: usize = 8;

use crate::scalar::Hyper;

/// One tensor as the table describes it: four buffer addresses, a length and a group index.
#[derive(Clone, Copy, Debug)]
pub struct TensorRecord {
    pub param: usize,
    pub grad: usize,
    pub square_avg: usize,
    pub acc_delta: usize,
    pub len: usize,
    pub group: usize,
}

impl TensorRecord {
    pub fn read(words: &[u32]) -> Self {
        TensorRecord {
            param: words[TENSOR_PARAM] as usize,
            grad: words[TENSOR_GRAD] as usize,
            square_avg: words[TENSOR_SQUARE_AVG] as usize,
            acc_delta: words[TENSOR_ACC_DELTA] as usize,
            len: words[TENSOR_LEN] as usize,
            group: words[TENSOR_GROUP] as usize,
        }
    }
}

pub fn read_group(words: &[f32]) -> Hyper {
    Hyper {
        lr: words[GROUP_LR],
        rho: words[GROUP_RHO],
        one_minus_rho: words[GROUP_ONE_MINUS_RHO],
        eps: words[GROUP_EPS],
        weight_decay: words[GROUP_WEIGHT_DECAY],
        maximize: words[GROUP_MAXIMIZE] != 0.0,
    }
}
