export { Adadelta } from './adadelta.js';
export type { Param, ParamState } from './params.js';
export { AdadeltaError } from './errors.js';
export type { GroupStats, RateDistribution, StepOptions } from './stats.js';
export { ParamGroup } from './groups.js';
export { DEFAULTS } from './options.js';
export type { AdadeltaOptions, Build, Hyperparameters, ParamGroupInit, ParamInit } from './options.js';
export { hasSimd } from './wasm/load.js';
