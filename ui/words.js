// @ts-check
/**
 * Counts in words: the one place the UI picks singular or plural, so no screen writes
 * "5 problem" or "1 items". (The engine's verdicts and reports have theirs in
 * crates/engine/src/words.rs, with the same rule.)
 */

/** The form that agrees with `n`: `one` for exactly 1, `many` otherwise ("0 items").
 * @param {number} n @param {string} one @param {string} [many] defaults to `one` + "s" */
export function form(n, one, many = `${one}s`) {
  return n === 1 ? one : many;
}

/** "1 item", "5 items", "2 things to improve".
 * @param {number} n @param {string} one @param {string} [many] defaults to `one` + "s" */
export function count(n, one, many = `${one}s`) {
  return `${n} ${form(n, one, many)}`;
}
