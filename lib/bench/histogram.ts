/**
 * A latency histogram in the manner of HdrHistogram: log-linear buckets over
 * whole microseconds, exact below 256 µs and within 1/128 (0.8 %) above, up
 * to about 71 minutes. Memory is fixed (26 KiB) however many values are
 * recorded, and recording is a few integer operations.
 *
 * @module
 */

/** Sub-buckets per power of two: 2^7, so no bucket is wider than 1/128 of its values. */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
/** Largest value kept apart: 2^32 - 1 µs; larger values are counted there. */
const MAX_MICROS = 0xffff_ffff;
/** Bucket count: values below 2 * SUB are exact, then SUB buckets per doubling up to 2^32. */
const BUCKETS = (32 - SUB_BITS + 1) * SUB;

function bucketOf(micros: number): number {
  if (micros < 2 * SUB) return micros;
  const shift = 32 - Math.clz32(micros) - (SUB_BITS + 1);
  return (shift + 1) * SUB + ((micros >>> shift) - SUB);
}

/** The largest value that lands in `bucket`. */
function highestIn(bucket: number): number {
  if (bucket < 2 * SUB) return bucket;
  const shift = Math.floor(bucket / SUB) - 1;
  const top = (bucket % SUB) + SUB;
  return (top + 1) * 2 ** shift - 1;
}

/** Percentiles and extremes of a histogram, in microseconds; undefined when nothing was recorded. */
export interface LatencySummary {
  samples: number;
  p50_us: number | undefined;
  p99_us: number | undefined;
  p999_us: number | undefined;
  max_us: number | undefined;
  mean_us: number | undefined;
}

/**
 * Counts latencies in microseconds.
 *
 * @example
 * ```ts
 * const h = new LatencyHistogram();
 * for (const us of [120, 250, 980]) h.record(us);
 * h.percentile(50); // 250 (exact below 256 µs, within 0.8 % above)
 * ```
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Values recorded. */
  get count(): number {
    return this.#count;
  }

  /** Records one value; negatives count as 0, fractions are rounded. */
  record(micros: number): void {
    const value = micros <= 0 ? 0 : micros >= MAX_MICROS ? MAX_MICROS : Math.round(micros);
    this.#counts[bucketOf(value)]!++;
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** Adds every value recorded in `other`. */
  merge(other: LatencyHistogram): void {
    if (other.#count === 0) return;
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /**
   * The value below or at which `percent` % of the values lie (nearest rank):
   * the top of that value's bucket, so never below the true value and at most
   * 0.8 % above it. Undefined when empty.
   */
  percentile(percent: number): number | undefined {
    if (this.#count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, percent)) / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, highestIn(i)));
    }
    return this.#max;
  }

  /** p50, p99, p99.9, max and mean. */
  summary(): LatencySummary {
    const empty = this.#count === 0;
    return {
      samples: this.#count,
      p50_us: this.percentile(50),
      p99_us: this.percentile(99),
      p999_us: this.percentile(99.9),
      max_us: empty ? undefined : this.#max,
      mean_us: empty ? undefined : this.#sum / this.#count,
    };
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }
}
