/**
 * Keccak-256 for the Merkle tree's hot loop: one-block messages (32 or 64 bytes) read from and
 * written to flat Uint32Array buffers, with no allocation per hash.
 *
 * Why not `keccak_256` from @noble/hashes in the loop: it allocates a hasher per call and runs the
 * permutation on u32 pairs, ~10 us per hash on the 2-core machine, and 1M leaves need 3M hashes.
 * Here keccak-f[1600] is emitted at load time as a small WebAssembly function with native 64-bit
 * lanes and rotates (~0.9 us per hash there). The emitter below follows FIPS 202 step by step and
 * needs no binary blob; the tests check every digest against @noble/hashes.
 */

/** The little of the WebAssembly JS API used here (not in TypeScript's ES libs without DOM). */
type WebAssemblyApi = {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; permute: () => void } };
};
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

/** The tree's buffers are read as u32 words; the word order below assumes a little-endian host. */
export const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const ROUND_CONSTANTS = [
  0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n,
  0x000000000000808bn, 0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n,
  0x000000000000008an, 0x0000000000000088n, 0x0000000080008009n, 0x000000008000000an,
  0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n, 0x8000000000008003n,
  0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
  0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];
/** Rotation offsets r[x][y] of the rho step. */
const RHO = [
  [0, 36, 3, 41, 18],
  [1, 44, 10, 45, 2],
  [62, 6, 43, 15, 61],
  [28, 55, 25, 21, 56],
  [27, 20, 39, 8, 14],
];

const OP = {
  localGet: 0x20, localSet: 0x21, i32Const: 0x41, i64Const: 0x42, i64Load: 0x29, i64Store: 0x37,
  i64And: 0x83, i64Xor: 0x85, i64Rotl: 0x89, end: 0x0b, i64Type: 0x7e, funcType: 0x60,
} as const;

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    out.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return out;
}

function signedLeb(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const low = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && (low & 0x40) === 0) || (value === -1n && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return out;
  }
}

/** Body of `permute()`: the 25 lanes at memory[0..200) through the 24 rounds, in place. */
function permutationBody(): number[] {
  const code: number[] = [];
  // Locals: lanes a[0..25), rho/pi output b[0..25), theta column parities c[0..5) and d[0..5).
  const a = (i: number) => i, b = (i: number) => 25 + i, c = (x: number) => 50 + x, d = (x: number) => 55 + x;
  const get = (local: number) => code.push(OP.localGet, ...unsignedLeb(local));
  const set = (local: number) => code.push(OP.localSet, ...unsignedLeb(local));
  const constant = (value: bigint) => code.push(OP.i64Const, ...signedLeb(BigInt.asIntN(64, value)));

  for (let i = 0; i < 25; i++) {
    code.push(OP.i32Const, 0, OP.i64Load, 3, ...unsignedLeb(8 * i));
    set(a(i));
  }
  for (const roundConstant of ROUND_CONSTANTS) {
    // theta: c[x] = xor of column x; d[x] = c[x-1] ^ rotl(c[x+1], 1)
    for (let x = 0; x < 5; x++) {
      get(a(x));
      for (let y = 1; y < 5; y++) { get(a(x + 5 * y)); code.push(OP.i64Xor); }
      set(c(x));
    }
    for (let x = 0; x < 5; x++) {
      get(c((x + 4) % 5)); get(c((x + 1) % 5)); constant(1n);
      code.push(OP.i64Rotl, OP.i64Xor);
      set(d(x));
    }
    // theta applied, then rho and pi: b[y, 2x+3y] = rotl(a[x, y] ^ d[x], r[x][y])
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        get(a(x + 5 * y)); get(d(x)); code.push(OP.i64Xor);
        const rotation = RHO[x]![y]!;
        if (rotation !== 0) { constant(BigInt(rotation)); code.push(OP.i64Rotl); }
        set(b(y + 5 * ((2 * x + 3 * y) % 5)));
      }
    }
    // chi: a[x, y] = b[x, y] ^ (~b[x+1, y] & b[x+2, y])
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 5; x++) {
        get(b(x + 5 * y)); get(b(((x + 1) % 5) + 5 * y)); constant(-1n); code.push(OP.i64Xor);
        get(b(((x + 2) % 5) + 5 * y)); code.push(OP.i64And, OP.i64Xor);
        set(a(x + 5 * y));
      }
    }
    // iota
    get(a(0)); constant(roundConstant); code.push(OP.i64Xor); set(a(0));
  }
  for (let i = 0; i < 25; i++) {
    code.push(OP.i32Const, 0);
    get(a(i));
    code.push(OP.i64Store, 3, ...unsignedLeb(8 * i));
  }
  code.push(OP.end);
  return code;
}

function wasmModuleBytes(): Uint8Array {
  const section = (id: number, content: number[]) => [id, ...unsignedLeb(content.length), ...content];
  const name = (text: string) => [...unsignedLeb(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
  const func = [...unsignedLeb(1), ...unsignedLeb(60), OP.i64Type, ...permutationBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [1, OP.funcType, 0, 0]), // one type: () -> ()
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0x00, 1]), // one memory, 1 page, no maximum
    ...section(7, [2, ...name("memory"), 0x02, 0, ...name("permute"), 0x00, 0]),
    ...section(10, [1, ...unsignedLeb(func.length), ...func]),
  ]);
}

const wasm = new WebAssembly.Instance(new WebAssembly.Module(wasmModuleBytes())).exports;
/** The permutation state in WebAssembly memory (lane i = words 2i (low) and 2i+1 (high)). */
const state = new Uint32Array(wasm.memory.buffer, 0, 50);

/** keccak-f[1600] in place on 50 u32 words, lane i being words 2i (low) and 2i+1 (high). */
export function keccakPermute(words: Uint32Array): void {
  state.set(words.subarray(0, 50));
  wasm.permute();
  words.set(state);
}

/**
 * keccak256 of a one-block message of `words` u32 words (8 = 32 bytes, 16 = 64 bytes) read from
 * `input` at `inputOffset`; the 32-byte digest goes to `output` at `outputOffset` (8 words).
 */
export function keccak256Words(
  input: Uint32Array,
  inputOffset: number,
  words: 8 | 16,
  output: Uint32Array,
  outputOffset: number,
): void {
  const s = state;
  s.fill(0);
  for (let i = 0; i < words; i++) s[i] = input[inputOffset + i]!;
  // pad10*1 with Keccak's (pre-SHA-3) domain bit: 0x01 right after the message, 0x80 in the
  // last byte of the 136-byte rate (byte 135 = the top byte of word 33 on a little-endian host).
  s[words] = 0x01;
  s[33] = s[33]! | 0x80000000;
  wasm.permute();
  for (let i = 0; i < 8; i++) output[outputOffset + i] = s[i]!;
}
