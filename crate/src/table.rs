//! The descriptor table that one `step` call walks. Its layout is rendered into
//! `ts/wasm/layout.ts` (see `layout.rs`): a field added here is there after regenerating.

use crate::layout::record;
use crate::scalar::Hyper;

record! {
    /// Tensor record fields, in u32 words: four buffer addresses, a length, a group index,
    /// whether the tensor steps, and how many steps it has taken.
    TENSOR {
        param: TENSOR_PARAM = 0,
        grad: TENSOR_GRAD = 1,
        squareAvg: TENSOR_SQUARE_AVG = 2,
        accDelta: TENSOR_ACC_DELTA = 3,
        len: TENSOR_LEN = 4,
        group: TENSOR_GROUP = 5,
        /// 1 if the param steps, 0 if it is frozen (torch's `p.grad is None`): every pass skips it.
        requiresGrad: TENSOR_REQUIRES_GRAD = 6,
        /// The param's step count, bumped by the thread whose range holds its first element.
        step: TENSOR_STEP = 7,
        words: TENSOR_WORDS = 8,
    }
}

record! {
    /// Group record fields, in f32 words. `maximize` is 0 or 1.
    GROUP {
        lr: GROUP_LR = 0,
        rho: GROUP_RHO = 1,
        oneMinusRho: GROUP_ONE_MINUS_RHO = 2,
        eps: GROUP_EPS = 3,
        weightDecay: GROUP_WEIGHT_DECAY = 4,
        maximize: GROUP_MAXIMIZE = 5,
        words: GROUP_WORDS = 8,
    }
}

/// One tensor as the table describes it: four buffer addresses, a length, a group index and
/// whether it steps.
#[derive(Clone, Copy, Debug)]
pub struct TensorRecord {
    pub param: usize,
    pub grad: usize,
    pub square_avg: usize,
    pub acc_delta: usize,
    pub len: usize,
    pub group: usize,
    pub requires_grad: bool,
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
            requires_grad: words[TENSOR_REQUIRES_GRAD] != 0,
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
        grad_scale: 1.0,
    }
}
