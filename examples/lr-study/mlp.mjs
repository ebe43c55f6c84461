/**
 * A 784-128-10 MLP (ReLU, softmax cross-entropy) with a hand-written forward and backward pass.
 * The weights live wherever the optimizer keeps them: the model only reads `params[i].data` and
 * adds into `params[i].grad`, so the same code trains with Adadelta's wasm views or with the plain
 * Float32Arrays of the reference optimizers.
 */
import { CLASSES, PIXELS } from './mnist-data.mjs';
import { gaussian } from './prng.mjs';

export const HIDDEN = 128;
/** Param order, as the optimizers see them. */
export const PARAM_NAMES = ['W1', 'b1', 'W2', 'b2'];

/** Initial weights: He-normal for W1 (ReLU follows), Glorot-normal for W2, zero biases. */
export function initialWeights(random) {
  const normal = (n, std) => Float32Array.from({ length: n }, () => gaussian(random) * std);
  return [
    normal(HIDDEN * PIXELS, Math.sqrt(2 / PIXELS)), // W1 [HIDDEN][PIXELS], row-major
    new Float32Array(HIDDEN), // b1
    normal(CLASSES * HIDDEN, Math.sqrt(2 / (HIDDEN + CLASSES))), // W2 [CLASSES][HIDDEN]
    new Float32Array(CLASSES), // b2
  ];
}

const hidden = new Float64Array(HIDDEN);
const dHidden = new Float64Array(HIDDEN);
const probs = new Float64Array(CLASSES);

/** Forward pass for one image: fills `hidden` and `probs`, returns the cross-entropy loss. */
function forward(params, image) {
  const [W1, b1, W2, b2] = params.map((p) => p.data);
  const { index, value } = image;
  for (let j = 0; j < HIDDEN; j++) {
    const row = j * PIXELS;
    let z = b1[j];
    for (let k = 0; k < index.length; k++) z += W1[row + index[k]] * value[k];
    hidden[j] = z > 0 ? z : 0;
  }
  let max = -Infinity;
  for (let c = 0; c < CLASSES; c++) {
    const row = c * HIDDEN;
    let z = b2[c];
    for (let j = 0; j < HIDDEN; j++) z += W2[row + j] * hidden[j];
    probs[c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) {
    probs[c] = Math.exp(probs[c] - max); // shifted by the max so exp cannot overflow
    sum += probs[c];
  }
  for (let c = 0; c < CLASSES; c++) probs[c] /= sum;
  return -Math.log(Math.max(probs[image.label], 1e-300));
}

/**
 * Mean loss over `batch`; adds d(mean loss)/d(param) into each `params[i].grad` (the caller
 * zeroes the grads first, as with any optimizer).
 */
export function lossAndGradient(params, batch) {
  const W2 = params[2].data;
  const [gW1, gb1, gW2, gb2] = params.map((p) => p.grad);
  const scale = 1 / batch.length;
  let total = 0;
  for (const image of batch) {
    total += forward(params, image);
    // d loss / d logit_c = p_c - [c == label], averaged over the batch.
    probs[image.label] -= 1;
    dHidden.fill(0);
    for (let c = 0; c < CLASSES; c++) {
      const dz = probs[c] * scale;
      const row = c * HIDDEN;
      gb2[c] += dz;
      for (let j = 0; j < HIDDEN; j++) {
        gW2[row + j] += dz * hidden[j];
        dHidden[j] += dz * W2[row + j];
      }
    }
    const { index, value } = image;
    for (let j = 0; j < HIDDEN; j++) {
      if (hidden[j] === 0) continue; // ReLU was off: no gradient flows to this unit
      const dz = dHidden[j];
      const row = j * PIXELS;
      gb1[j] += dz;
      for (let k = 0; k < index.length; k++) gW1[row + index[k]] += dz * value[k];
    }
  }
  return total * scale;
}

/** The class the last forward pass gave the highest probability. */
function mostProbable() {
  let best = 0;
  for (let c = 1; c < CLASSES; c++) if (probs[c] > probs[best]) best = c;
  return best;
}

/** Mean loss and accuracy over `images`, without touching any gradient. */
export function evaluate(params, images) {
  let loss = 0;
  let correct = 0;
  for (const image of images) {
    loss += forward(params, image);
    if (mostProbable() === image.label) correct++;
  }
  return { loss: loss / images.length, accuracy: correct / images.length };
}

/** The predicted digit for each of `images`. */
export function predict(params, images) {
  return images.map((image) => {
    forward(params, image);
    return mostProbable();
  });
}
