/**
 * The optimizer class the training loop drives, over the project's float32-exact reference
 * step (test/helpers/reference.ts: every operation rounded with Math.fround in the kernel's
 * order). Its bytes are what every build in every runtime must produce, bit for bit. It shares
 * no code with the package.
 */
import { stepF32Exact } from '../helpers/reference.js';

interface GroupInit {
  params: Float32Array[];
  lr?: number;
  rho?: number;
  eps?: number;
  weightDecay?: number;
  maximize?: boolean;
}
type Hyper = Required<Omit<GroupInit, 'params'>>;

export class ReferenceAdadelta {
  readonly build = 'reference';
  readonly params: { data: Float32Array; grad: Float32Array; group: number; sq: Float32Array; acc: Float32Array }[] = [];
  readonly paramGroups: Hyper[] = [];

  static async create(groups: GroupInit[], defaults: Partial<Hyper> & { build?: string } = {}): Promise<ReferenceAdadelta> {
    const opt = new ReferenceAdadelta();
    const base: Hyper = { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };
    for (const key of Object.keys(base) as (keyof Hyper)[]) {
      if (defaults[key] !== undefined) (base as Record<string, unknown>)[key] = defaults[key];
    }
    groups.forEach((group, g) => {
      const { params, ...hyper } = group;
      opt.paramGroups.push({ ...base, ...hyper });
      for (const init of params) {
        const n = init.length;
        opt.params.push({ data: Float32Array.from(init), grad: new Float32Array(n), group: g, sq: new Float32Array(n), acc: new Float32Array(n) });
      }
    });
    return opt;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  step(): void {
    for (const p of this.params) {
      stepF32Exact({ p: p.data, sq: p.sq, acc: p.acc }, p.grad, this.paramGroups[p.group]!);
    }
  }

  dispose(): void {}
}
