// The default branch of an exhaustive switch: the compiler proves it unreachable (`value` is `never`), and a value
// from outside the types (a corrupt record, a newer peer) gets an error naming it instead of undefined behaviour.
export function unreachable(value: never, what: string): never {
  throw new Error(`unknown ${what} ${JSON.stringify(value)}`);
}
