//! Poseidon (circomlib's parameters, width 3; see [`crate::disclosure::poseidon`]) as a halo2-axiom
//! chip, for hash chains `h_0 = prefix`, `h_{i+1} = hash2(h_i, e_i)`.
//!
//! # Layout
//!
//! A chip is a set of columns of its own: three state columns (equality-enabled), three helper
//! columns holding squares, three fixed round-constant columns and three selectors (which
//! halo2-axiom turns into fixed columns). One hash takes [`ROWS_PER_HASH`] = 66 consecutive rows of
//! one chip: row `b` holds the initial state `[0, left, right]` and row `b + r + 1` the state after
//! round `r`, so the output is the first state column at row `b + 65`. Round `r` is checked at row
//! `b + r`, with its constants `c_j` in the fixed columns of that row and the squares
//! `q_j = (s_j + c_j)^2` in the helper columns (all three in a full round, `q_0` only in a partial
//! round), so that the S-box is `x^5 = x·q^2` and no gate exceeds degree 4:
//!
//! | gate | constraints (each times its selector) | degree |
//! |---|---|---|
//! | `poseidon capacity` | `s_0 = 0` at the first row of a hash | 2 |
//! | `poseidon full round` | `q_j = (s_j + c_j)^2`; `s_i(next) = Σ_j M[i][j]·(s_j + c_j)·q_j^2` | 3; 4 |
//! | `poseidon partial round` | `q_0 = (s_0 + c_0)^2`; `s_i(next) = M[i][0]·(s_0 + c_0)·q_0^2 + Σ_{j>0} M[i][j]·(s_j + c_j)` | 3; 4 |
//!
//! The two inputs are copied into the first row by equality (the chain's prefix is a constant cell,
//! placed by the layouter in the chip's dedicated constants column), and the output is the state
//! cell itself, which the next hash of the chain copies.
//!
//! # Rows
//!
//! halo2-axiom's `SimpleFloorPlanner` does not stack regions (every region starts at row 0 and
//! offsets are absolute rows), so the caller opens one region for all its hashes and keeps a
//! [`HashRows`] across the calls: each hash (and each single-row item: a private element, the prefix
//! cell of an empty chain) goes to the chip whose next free row is lowest, so the successive hashes of
//! a chain alternate between the chips.

use ff::Field;
use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector},
    poly::Rotation,
};

use crate::circuit::chips::cell::FpCell;
use crate::disclosure::poseidon::{self, is_full_round, ROUNDS, WIDTH};

/// Rows one two-to-one hash takes in a chip's columns: the initial state, then the state after each of
/// the 65 rounds (the last of which holds the output).
pub const ROWS_PER_HASH: usize = ROUNDS + 1;

/// Cells each chain places in the constants column (its prefix; none for the hashes themselves).
pub const CONSTANTS_PER_CHAIN: usize = 1;

/// The columns and selectors of one chip.
#[derive(Clone, Debug)]
struct ChipColumns {
    /// The state `s_0, s_1, s_2` (equality-enabled).
    state: [Column<Advice>; WIDTH],
    /// The squares `q_j = (s_j + c_j)^2` of a round's S-box inputs.
    square: [Column<Advice>; WIDTH],
    /// The round constants `c_j` of the round checked at that row.
    round_constants: [Column<Fixed>; WIDTH],
    /// The first row of a hash (the capacity element must be 0).
    first: Selector,
    /// A full round is checked at this row.
    full: Selector,
    /// A partial round is checked at this row.
    partial: Selector,
}

impl ChipColumns {
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let state = [(); WIDTH].map(|_| meta.advice_column());
        for column in state {
            meta.enable_equality(column);
        }
        let square = [(); WIDTH].map(|_| meta.advice_column());
        let round_constants = [(); WIDTH].map(|_| meta.fixed_column());
        let (first, full, partial) = (meta.selector(), meta.selector(), meta.selector());
        let mds = poseidon::mds();

        meta.create_gate("poseidon capacity", |v| {
            let q = v.query_selector(first);
            let s0 = v.query_advice(state[0], Rotation::cur());
            vec![("capacity is 0", q * s0)]
        });

        // `s_i(next) - Σ_j M[i][j]·t_j` for the S-box outputs (or plain inputs) `t_j`.
        let mix = |t: &[Expression<Fr>; WIDTH], next: &[Expression<Fr>; WIDTH], i: usize| {
            (0..WIDTH).fold(next[i].clone(), |acc, j| {
                acc - Expression::Constant(mds[i][j]) * t[j].clone()
            })
        };

        meta.create_gate("poseidon full round", |v| {
            let q = v.query_selector(full);
            let x: [Expression<Fr>; WIDTH] = std::array::from_fn(|j| {
                v.query_advice(state[j], Rotation::cur())
                    + v.query_fixed(round_constants[j], Rotation::cur())
            });
            let sq: [Expression<Fr>; WIDTH] =
                std::array::from_fn(|j| v.query_advice(square[j], Rotation::cur()));
            let next: [Expression<Fr>; WIDTH] =
                std::array::from_fn(|j| v.query_advice(state[j], Rotation::next()));
            let sbox: [Expression<Fr>; WIDTH] =
                std::array::from_fn(|j| x[j].clone() * sq[j].clone() * sq[j].clone());
            let squares = (0..WIDTH).map(|j| {
                let c = sq[j].clone() - x[j].clone() * x[j].clone();
                (format!("square {j}"), q.clone() * c)
            });
            let mixes = (0..WIDTH).map(|i| (format!("mix {i}"), q.clone() * mix(&sbox, &next, i)));
            squares.chain(mixes).collect::<Vec<_>>()
        });

        meta.create_gate("poseidon partial round", |v| {
            let q = v.query_selector(partial);
            let x: [Expression<Fr>; WIDTH] = std::array::from_fn(|j| {
                v.query_advice(state[j], Rotation::cur())
                    + v.query_fixed(round_constants[j], Rotation::cur())
            });
            let sq0 = v.query_advice(square[0], Rotation::cur());
            let next: [Expression<Fr>; WIDTH] =
                std::array::from_fn(|j| v.query_advice(state[j], Rotation::next()));
            // Only the first element goes through the S-box.
            let mut t = x.clone();
            t[0] = x[0].clone() * sq0.clone() * sq0.clone();
            let square = (
                "square 0".to_string(),
                q.clone() * (sq0 - x[0].clone() * x[0].clone()),
            );
            let mixes = (0..WIDTH).map(|i| (format!("mix {i}"), q.clone() * mix(&t, &next, i)));
            std::iter::once(square).chain(mixes).collect::<Vec<_>>()
        });

        ChipColumns {
            state,
            square,
            round_constants,
            first,
            full,
            partial,
        }
    }
}

/// A witness cell (that negative tests change by one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// State element `element` at row `row` of the hash (row 0: the initial state).
    State { row: usize, element: usize },
    /// Square `element` at row `row` of the hash (the round `row`).
    Square { row: usize, element: usize },
    /// The copy of the right input (the element `e_i`) in the hash's first row.
    Input,
}

/// Which cell the test circuit changes: the `hash`-th hash of the region (in the order of the calls).
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tamper {
    hash: usize,
    target: Target,
}

/// The Poseidon chips' columns.
#[derive(Clone, Debug)]
pub struct HashConfig {
    /// One column set per chip.
    chips: Vec<ChipColumns>,
    /// The dedicated constants column (the chains' prefixes).
    constants: Column<Fixed>,
    /// A witness cell to change, set by the negative tests only.
    #[cfg(test)]
    tamper: Option<Tamper>,
}

/// The next free row of each chip's columns (regions do not stack in halo2-axiom, so the caller keeps
/// this across calls).
#[derive(Clone, Debug)]
pub struct HashRows {
    /// The next free row of each chip.
    next: Vec<usize>,
    /// Hashes laid out so far.
    hashes: usize,
}

impl HashRows {
    /// No rows used yet, on `chips` chips (at least one).
    pub fn new(chips: usize) -> Self {
        HashRows {
            next: vec![0; chips.max(1)],
            hashes: 0,
        }
    }

    /// Rows used: the most over the chips (each chip's rows start at row 0).
    pub fn used(&self) -> usize {
        self.next.iter().copied().max().unwrap_or(0)
    }

    /// Reserves `rows` rows on the chip whose next free row is lowest (the first such chip on a
    /// tie); returns the chip and the first row.
    fn take(&mut self, rows: usize) -> (usize, usize) {
        let (chip, &row) = self
            .next
            .iter()
            .enumerate()
            .min_by_key(|&(_, &row)| row)
            .expect("at least one chip");
        self.next[chip] = row + rows;
        (chip, row)
    }
}

/// The left input of a hash: the chain's prefix (a constant) or the previous hash.
enum Left<'a> {
    Constant(Fr),
    Cell(&'a FpCell),
}

impl HashConfig {
    /// `chips` (at least one) independent Poseidon chips, and one fixed column, enabled for constants,
    /// for the chains' prefixes.
    ///
    /// The layouter places every constant of the circuit in the first column enabled for constants,
    /// from row 0 up; so this must be the circuit's first `enable_constant`, and nothing else may
    /// assign that column. Each chain takes [`CONSTANTS_PER_CHAIN`] row of it.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, chips: usize) -> Self {
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        let chips = (0..chips.max(1))
            .map(|_| ChipColumns::configure(meta))
            .collect();
        HashConfig {
            chips,
            constants,
            #[cfg(test)]
            tamper: None,
        }
    }

    /// The number of chips.
    pub fn chips(&self) -> usize {
        self.chips.len()
    }

    /// The constants column (the chains' prefixes).
    pub fn constants_column(&self) -> Column<Fixed> {
        self.constants
    }

    /// A private element (a salt), to be hashed: one cell of a state column (equality-enabled), in a
    /// row of its own of the least used chip.
    pub fn assign_private(
        &self,
        region: &mut Region<'_, Fr>,
        rows: &mut HashRows,
        value: Value<Fr>,
    ) -> FpCell {
        let (chip, row) = self.take(rows, 1);
        FpCell::assign(region, self.chips[chip].state[1], row, value)
    }

    /// The chain `h_0 = prefix` (a constant), `h_{i+1} = hash2(h_i, e_i)`, with each `e_i` copied in by
    /// equality; returns the last `h` (for no elements, a cell, in a row of its own, constrained to
    /// `prefix`).
    pub fn chain(
        &self,
        region: &mut Region<'_, Fr>,
        rows: &mut HashRows,
        prefix: Fr,
        elements: &[FpCell],
    ) -> Result<FpCell, Error> {
        let Some((first, rest)) = elements.split_first() else {
            let (chip, row) = self.take(rows, 1);
            let cell = FpCell::assign(region, self.chips[chip].state[1], row, Value::known(prefix));
            region.constrain_constant(cell.cell(), prefix)?;
            return Ok(cell);
        };
        let mut h = self.hash(region, rows, Left::Constant(prefix), first)?;
        for e in rest {
            h = self.hash(region, rows, Left::Cell(&h), e)?;
        }
        Ok(h)
    }

    /// Rows the chips' columns need for `hashes` hashes on `chips` chips (the most rows any chip uses):
    /// exact when nothing else is laid out. Each private element, and the prefix cell of each empty
    /// chain, takes one more row of one chip: see [`HashConfig::rows_with_singles`].
    pub fn rows_for(hashes: usize, chips: usize) -> usize {
        hashes.div_ceil(chips.max(1)) * ROWS_PER_HASH
    }

    /// An upper bound on the rows the chips' columns need for `hashes` hashes and `singles` one-row
    /// items (private elements, empty chains) on `chips` chips, laid out in any order: every item
    /// goes to the least used chip, so the rows exceed [`HashConfig::rows_for`] by at most `singles`.
    pub fn rows_with_singles(hashes: usize, singles: usize, chips: usize) -> usize {
        Self::rows_for(hashes, chips) + singles
    }

    fn take(&self, rows: &mut HashRows, n: usize) -> (usize, usize) {
        assert_eq!(
            rows.next.len(),
            self.chips.len(),
            "HashRows::new must be given the config's number of chips"
        );
        rows.take(n)
    }

    /// One hash `hash2(left, right)` in the next [`ROWS_PER_HASH`] rows of the least used chip;
    /// returns the output cell.
    fn hash(
        &self,
        region: &mut Region<'_, Fr>,
        rows: &mut HashRows,
        left: Left<'_>,
        right: &FpCell,
    ) -> Result<FpCell, Error> {
        let index = rows.hashes;
        rows.hashes += 1;
        let (chip, base) = self.take(rows, ROWS_PER_HASH);
        let cols = &self.chips[chip];

        // The initial state [0, left, right].
        cols.first.enable(region, base)?;
        let zero = self.tweak(
            index,
            Target::State { row: 0, element: 0 },
            Value::known(Fr::ZERO),
        );
        let s0 = FpCell::assign(region, cols.state[0], base, zero);
        let s1 = match left {
            Left::Constant(prefix) => {
                let value = self.tweak(
                    index,
                    Target::State { row: 0, element: 1 },
                    Value::known(prefix),
                );
                let cell = FpCell::assign(region, cols.state[1], base, value);
                region.constrain_constant(cell.cell(), prefix)?;
                cell
            }
            Left::Cell(h) => h.copy_to(region, cols.state[1], base),
        };
        let s2 = FpCell::assign(
            region,
            cols.state[2],
            base,
            self.tweak(index, Target::Input, right.value()),
        );
        region.constrain_equal(right.cell(), s2.cell());

        let constants = poseidon::round_constants();
        let mut state = s0
            .value()
            .zip(s1.value())
            .zip(s2.value())
            .map(|((a, b), c)| [a, b, c]);
        let mut out = s0;
        for (r, c) in constants.iter().enumerate() {
            let row = base + r;
            for (&column, &constant) in cols.round_constants.iter().zip(c) {
                region.assign_fixed(column, row, constant);
            }
            let full = is_full_round(r);
            if full {
                cols.full.enable(region, row)?;
            } else {
                cols.partial.enable(region, row)?;
            }
            let sboxes = if full { WIDTH } else { 1 };
            for j in 0..sboxes {
                let sq = state.map(|s| (s[j] + c[j]).square());
                let sq = self.tweak(index, Target::Square { row: r, element: j }, sq);
                FpCell::assign(region, cols.square[j], row, sq);
            }
            state = state.map(|s| poseidon::round(r, s));
            for j in 0..WIDTH {
                let value = self.tweak(
                    index,
                    Target::State {
                        row: r + 1,
                        element: j,
                    },
                    state.map(|s| s[j]),
                );
                let cell = FpCell::assign(region, cols.state[j], row + 1, value);
                if j == 0 {
                    out = cell;
                }
            }
        }
        Ok(out)
    }

    /// The value of `target` in hash `hash` (changed by one in a negative test).
    fn tweak(&self, hash: usize, target: Target, value: Value<Fr>) -> Value<Fr> {
        #[cfg(test)]
        let value = self.tweaked(hash, target, value);
        #[cfg(not(test))]
        let _ = (hash, target);
        value
    }

    #[cfg(test)]
    fn tweaked(&self, hash: usize, target: Target, value: Value<Fr>) -> Value<Fr> {
        if self.tamper == Some(Tamper { hash, target }) {
            value.map(|v| v + Fr::ONE)
        } else {
            value
        }
    }
}

#[cfg(test)]
#[path = "tests_poseidon.rs"]
mod tests;
