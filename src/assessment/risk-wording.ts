// How a risk is written wherever people read it: the CDS cards, the DXA order's reason and the SMART
// app (which bundles this module). Pure and free of Node APIs, so it runs in the browser too.

/**
 * 0.004 → "0.4%", 0.032 → "3.2%", 0.141 → "14%". Rounded down, so a shown figure never crosses a band
 * threshold the risk did not reach (9.96 % shows as 9.9 %, in the band below 10 %).
 */
export function percent(fraction: number): string {
  const value = fraction * 100;
  if (value > 0 && value < 0.1) return '<0.1%';
  // The small epsilon keeps binary fractions such as 0.29 × 100 = 28.999… from losing a step.
  const shown = value < 10 ? (Math.floor(value * 10 + 1e-9) / 10).toFixed(1) : Math.floor(value + 1e-9).toString();
  return `${shown}%`;
}

export function years(horizon: number): string {
  return `${horizon}-year`;
}
