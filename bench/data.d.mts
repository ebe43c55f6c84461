export function rng(seed: number): () => number;
export function uniform(n: number, scale: number, seed: number): Float32Array;
export function split(flat: Float32Array, lengths: number[]): Float32Array[];
