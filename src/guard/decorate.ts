import { KeywardenError } from "../errors.js";

// biome-ignore lint/suspicious/noExplicitAny: a method of any signature
type AnyMethod = (this: any, ...args: any[]) => any;

/**
 * A method decorator usable both as a TC39 standard decorator (`(value, context)`) and under
 * TypeScript's legacy `experimentalDecorators` (`(target, key, descriptor)`, as NestJS uses).
 * The method must be async (the guard always returns a promise) and its leading parameters must
 * match the policy's id extractor `A`.
 */
export interface DualMethodDecorator<A extends unknown[]> {
  <This, Args extends [...A, ...unknown[]], R>(
    value: (this: This, ...args: Args) => Promise<R>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<R>>,
  ): (this: This, ...args: Args) => Promise<R>;
  (target: object, key: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor;
}

/**
 * Builds a dual-mode method decorator from `wrap`, detecting the calling convention from the
 * arguments: a TC39 context object has a `kind`; the legacy form passes a property descriptor.
 *
 * @internal
 */
export function decorateMethod<A extends unknown[]>(
  wrap: (method: AnyMethod) => AnyMethod,
): DualMethodDecorator<A> {
  return ((value: unknown, context: unknown, descriptor?: PropertyDescriptor) => {
    if (typeof context === "object" && context !== null && "kind" in context) {
      if ((context as { kind: unknown }).kind !== "method" || typeof value !== "function") {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "this decorator applies to methods only");
      }
      return wrap(value as AnyMethod);
    }
    if (
      (typeof context === "string" || typeof context === "symbol") &&
      descriptor &&
      typeof descriptor.value === "function"
    ) {
      return { ...descriptor, value: wrap(descriptor.value as AnyMethod) };
    }
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "this decorator applies to methods only");
  }) as DualMethodDecorator<A>;
}
