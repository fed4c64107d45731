// Port of Python's built-ins the calculators rely on (sum, truthiness, round, tuple order, f-string formats).

/** Left-to-right sum, as Python 3.11's built-in `sum()` computes it for floats. */
export function sum(values) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Python's truthiness for a number or a missing value. */
export function truthy(value) {
  return value !== null && value !== undefined && value !== 0 && !Number.isNaN(value);
}

/** Python's round(): to the nearest integer, ties to even. */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

/** Lexicographic comparison of arrays of numbers or strings (Python tuple order). */
export function compareTuples(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return a.length - b.length;
}

// Python number formatting (the feasibility messages are byte-identical to Python's)

/**
 * Python's `format(x, f".{digits}f")`: the exact binary value correctly rounded, ties to even
 * (Number#toFixed rounds exact ties up; a tie at `digits` decimals is a value x for which
 * x * 2^(digits+1) is an odd integer).
 * @param {number} x
 * @param {number} digits
 */
export function pyFixed(x, digits) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const a = Math.abs(x);
  const y = a * 2 ** (digits + 1);
  let body;
  if (Number.isInteger(y) && y % 2 === 1) {
    // a * 10^digits = y * 5^digits / 2 exactly: round the half to the even neighbour
    const twice = BigInt(y) * 5n ** BigInt(digits);
    let n = (twice - 1n) / 2n;
    if (n % 2n) n += 1n;
    const s = n.toString().padStart(digits + 1, "0");
    body = digits ? `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}` : s;
  } else if (a >= 1e21) {
    body = BigInt(a).toString() + (digits ? `.${"0".repeat(digits)}` : "");
  } else {
    body = a.toFixed(digits);
  }
  return sign + body;
}

/**
 * Python's `f"{x:,.{digits}f}"`: `pyFixed` with thousands separators.
 * @param {number} x
 * @param {number} [digits=0]
 */
export function pyComma(x, digits = 0) {
  const s = pyFixed(x, digits);
  const m = /^(-?)(\d+)(.*)$/.exec(s);
  if (!m) return s;
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + m[3];
}

/** Python's `f"{x:.0%}"` (a share as a whole percentage). */
export function pyPercent(x) {
  return `${pyFixed(x * 100, 0)}%`;
}

/** Python's `round(x, digits)`: correctly rounded, ties to even. */
export function pyRound(x, digits) {
  return Number.isFinite(x) ? Number(pyFixed(x, digits)) : x;
}
