// The little dense linear algebra the Cox fit needs: Cholesky factorisation of a symmetric positive
// definite p × p matrix (row-major Float64Array), solves with it, and the diagonal of its inverse.

/**
 * Lower-triangular L with A = L Lᵀ. Throws when a pivot is not above `relativeTolerance` × `scale`
 * (default: the largest diagonal entry): A is then singular, or not positive definite, for practical
 * purposes.
 */
export function cholesky(a: Float64Array, p: number, relativeTolerance = 1e-12, scale = largestDiagonal(a, p)): Float64Array {
  const l = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let pivot = a[j * p + j]!;
    for (let k = 0; k < j; k++) pivot -= l[j * p + k]! * l[j * p + k]!;
    if (!(pivot > relativeTolerance * scale)) throw new Error(`matrix is singular or not positive definite (pivot ${j})`);
    const root = Math.sqrt(pivot);
    l[j * p + j] = root;
    for (let i = j + 1; i < p; i++) {
      let sum = a[i * p + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * p + k]! * l[j * p + k]!;
      l[i * p + j] = sum / root;
    }
  }
  return l;
}

function largestDiagonal(a: Float64Array, p: number): number {
  let largest = 0;
  for (let j = 0; j < p; j++) largest = Math.max(largest, Math.abs(a[j * p + j]!));
  return largest;
}

/** x with L Lᵀ x = b. */
export function choleskySolve(l: Float64Array, p: number, b: Float64Array): Float64Array {
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * p + k]! * y[k]!;
    y[i] = sum / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < p; k++) sum -= l[k * p + i]! * x[k]!;
    x[i] = sum / l[i * p + i]!;
  }
  return x;
}

/** diag(A⁻¹) from A's Cholesky factor: (A⁻¹)_jj = ‖column j of L⁻¹‖². */
export function inverseDiagonal(l: Float64Array, p: number): Float64Array {
  const diagonal = new Float64Array(p);
  const column = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    // Forward substitution of the unit vector e_j: entries above j are zero.
    column.fill(0);
    for (let i = j; i < p; i++) {
      let sum = i === j ? 1 : 0;
      for (let k = j; k < i; k++) sum -= l[i * p + k]! * column[k]!;
      column[i] = sum / l[i * p + i]!;
    }
    for (let i = j; i < p; i++) diagonal[j]! += column[i]! * column[i]!;
  }
  return diagonal;
}
