// What a hostile DHCP server sends and how tests look for what leaked through.

/** Option 119 as a server may send it: any byte in a label (encodeDomainSearch refuses what we would not send). */
export function rawSearch(names: string[]): Buffer {
  return Buffer.concat(
    names.map((n) =>
      Buffer.concat([
        ...n
          .split('.')
          .map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1')])),
        Buffer.from([0]),
      ]),
    ),
  );
}

/** Every string in a JSON value, keys included. */
export function allStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) allStrings(x, out);
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) (out.push(k), allStrings(x, out));
  return out;
}
