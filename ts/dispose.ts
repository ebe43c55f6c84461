/**
 * `using opt = await Adadelta.create(...)`: explicit resource management where the runtime
 * has it, and the same method under a registered symbol where it does not. (The type's
 * declaration stands beside the class that uses it, adadelta.ts, so the bundled .d.ts keeps it.)
 */

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
