//! How many instance columns the planner spreads a circuit's public values over.

/// Public values per instance column at most, when the planner chooses the columns: halo2's
/// verifier spends about 2 us per row of the longest instance column (two exponentiations), so
/// 4,096 rows cost it about 9 ms; each further column is one more equality column for the prover.
pub const INSTANCE_ROWS_PER_COLUMN: usize = 4096;

/// Public values per instance column down to which the planner spreads them further where that
/// costs the prover nothing (see [`instance_columns_for`]): 1,024 rows cost the verifier about 2 ms.
pub const INSTANCE_ROWS_SPREAD: usize = 1024;

/// Instance columns for `rows` public values (see [`INSTANCE_ROWS_PER_COLUMN`]), beside `others`
/// equality columns whose permutation argument takes `chunk` columns per product: one per 4,096
/// values at least, then more, down to [`INSTANCE_ROWS_SPREAD`] values each, while they only fill
/// the last product's free places (no product more for the prover, by halo2's chunks or by the
/// cost model's three per product). Each adds one value to a proof (its permutation column's
/// evaluation, 32 bytes).
pub fn instance_columns_for(rows: usize, others: usize, chunk: usize) -> usize {
    let max = crate::circuit::MAX_INSTANCE_COLUMNS;
    let least = rows.div_ceil(INSTANCE_ROWS_PER_COLUMN).clamp(1, max);
    let equality = others + least;
    let fill = |chunk: usize| equality.div_ceil(chunk.max(1)) * chunk.max(1) - equality;
    let free = fill(chunk).min(fill(3));
    rows.div_ceil(INSTANCE_ROWS_SPREAD)
        .clamp(least, least + free)
        .min(max)
}
