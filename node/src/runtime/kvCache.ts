/**
 * Batched KV cache for continuous batching. Each row keeps its real tokens right-aligned, with
 * masked padding on the left, so rows of different lengths share one [B, H, P, Dh] tensor per
 * layer. Rows join and leave by reassembling the tensors (one copy per change, none per step).
 */
export type CacheShape = { layers: number; heads: number; headDim: number };

/** One layer's key (or value) tensor data, [B, H, P, Dh] row-major. */
export type CacheTensor = { data: Float32Array; batch: number; length: number };

/** keys[layer], values[layer]. */
export type KvCache = { keys: CacheTensor[]; values: CacheTensor[]; batch: number; length: number };

/** Where a row of the new cache comes from: `row` of `source`, its last `realLength` columns. */
export type RowSource = { source: KvCache; row: number; realLength: number };

export function emptyCache(shape: CacheShape, batch: number): KvCache {
  const empty = (): CacheTensor => ({ data: new Float32Array(0), batch, length: 0 });
  return {
    keys: Array.from({ length: shape.layers }, empty),
    values: Array.from({ length: shape.layers }, empty),
    batch,
    length: 0,
  };
}

/**
 * Builds a cache whose rows are `rows` in order, each right-aligned in a length equal to the
 * longest real length, so no column is padding for every row.
 */
export function assembleCache(shape: CacheShape, rows: readonly RowSource[]): KvCache {
  const length = rows.reduce((m, r) => Math.max(m, r.realLength), 0);
  const batch = rows.length;
  const { heads, headDim } = shape;
  const build = (pick: (c: KvCache) => CacheTensor[], layer: number): CacheTensor => {
    const data = new Float32Array(batch * heads * length * headDim);
    rows.forEach((r, destRow) => {
      const src = pick(r.source)[layer]!;
      const keepFrom = src.length - r.realLength;
      for (let h = 0; h < heads; h++) {
        const srcStart = ((r.row * heads + h) * src.length + keepFrom) * headDim;
        const destStart = ((destRow * heads + h) * length + (length - r.realLength)) * headDim;
        data.set(src.data.subarray(srcStart, srcStart + r.realLength * headDim), destStart);
      }
    });
    return { data, batch, length };
  };
  return {
    keys: Array.from({ length: shape.layers }, (_, l) => build((c) => c.keys, l)),
    values: Array.from({ length: shape.layers }, (_, l) => build((c) => c.values, l)),
    batch,
    length,
  };
}

/** Attention mask [B, P + 1] for one decode step: padding 0, real tokens and the new one 1. */
export function decodeAttentionMask(realLengths: readonly number[], cacheLength: number): BigInt64Array {
  const width = cacheLength + 1;
  const mask = new BigInt64Array(realLengths.length * width);
  realLengths.forEach((len, row) => mask.fill(1n, row * width + (cacheLength - len), (row + 1) * width));
  return mask;
}
