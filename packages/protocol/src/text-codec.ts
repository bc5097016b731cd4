// The protocol is runtime-neutral, so its tsconfig has neither DOM nor Node types. TextEncoder and
// TextDecoder are globals in every runtime we support (browsers, Node ≥ 11, Deno, Bun, workers):
// declare just the part we use instead of pulling in a whole environment's types.
interface Utf8Decoder {
  decode(input: Uint8Array): string;
}
interface Utf8Encoder {
  encode(input: string): Uint8Array;
}
declare const TextDecoder: new (label: 'utf-8', options: { fatal: boolean }) => Utf8Decoder;
declare const TextEncoder: new () => Utf8Encoder;

export const utf8Decoder: Utf8Decoder = new TextDecoder('utf-8', { fatal: true });
export const utf8Encoder: Utf8Encoder = new TextEncoder();
