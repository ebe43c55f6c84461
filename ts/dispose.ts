/**
 * `using opt = await Adadelta.create(...)`: explicit resource management where the runtime
 * has it, and the same method under a registered symbol where it does not.
 */

// `Symbol.dispose` is in lib esnext.disposable, not in ES2022: declare it (as @types/node does),
// so our declarations compile for consumers whose lib lacks it.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('Symbol.dispose');

/** Makes `[Symbol.dispose]()` call `dispose()` on every instance of `cls`. */
export function disposable(cls: { prototype: { dispose(): void } }): void {
  Object.defineProperty(cls.prototype, disposeSymbol, {
    value: function (this: { dispose(): void }) {
      this.dispose();
    },
    writable: true,
    configurable: true,
  });
}
