//! Threshold rows: a non-decreasing map of the accumulator ([`crate::qgraph::threshold`]), one row per
//! element.
//!
//! A threshold row is a link row whose target `acc` lands in `a_0`; `y` is the equality-enabled
//! `x_0`, and the row's `tag` (a fixed cell) names the map. With [`ThresholdLimbs::Narrow`] limbs
//! (`B = 2^12`, three per difference, looked up in the range table):
//!
//! ```text
//! (tag, y, lo, hi) is a row of the threshold table
//! acc - lo     = d_0 + d_1 B + d_2 B^2        d_i ∈ [0, B)
//! hi - 1 - acc = e_0 + e_1 B + e_2 B^2        e_i ∈ [0, B)
//! ```
//!
//! [`ThresholdLimbs::Wide`] limbs are two per difference, `B = 2^18`, looked up in a limb table of
//! the chip's own (`0..2^18`, so `k >= 19`): two lookup arguments fewer and two cells fewer per row.
//! [`ThresholdLimbs::Chunked`] limbs are one per difference (`B = 2^12`, the range table): four
//! lookup arguments and four cells fewer than narrow ones, for a larger table, whose intervals are
//! cut to the accumulators each map can meet and split into pieces of at most `B` (see
//! [`ThresholdMap::chunked_rows`]). [`ThresholdLimbs::ChunkedWide`] limbs are the same with
//! `B = 2^16`, looked up in a limb table of the chip's own (`k >= 17`): pieces 16 times longer.
//! The gate and lookups are the same for every limb size: with `0 <= d, e < B^n`,
//! `acc = lo + d = hi - 1 - e` lies in `[lo, hi)` whatever the table's rows.
//! [`ThresholdLimbs::Fitted`] limbs check `acc - lo` alone, one lookup argument and one cell fewer
//! than chunked ones: every piece is `2^b` long (`b <= 12`, or 16 for
//! [`ThresholdLimbs::FittedWide`]), the table row names `b` in place of `hi`, and the pair
//! `(b, acc - lo)` is looked up in a table of the chip's own holding exactly the pairs with
//! `0 <= acc - lo < 2^b`, so `acc` lies in `[lo, lo + 2^b)`, the row's piece, whatever the table's
//! rows:
//!
//! ```text
//! (tag, y, lo, b) is a row of the threshold table
//! acc - lo = d                                 (b, d) ∈ {(b, d) : 0 <= d < 2^b}
//! ```
//! The table holds, for each map, one row per non-empty interval `[lo, hi)` of accumulators with
//! output `y` (or its pieces); intervals of different outputs are disjoint (fitted pieces of one
//! interval may overlap, with its output), so `lo <= acc < hi` (both differences are below `2^36`
//! either way, far below the field's size, so no wrap-around can fake them) picks exactly one `y`.
//! The table also holds `(0, 0, 0, 0)`, what a disabled lookup reads (fitted limbs' table `(0, 0)`
//! likewise). Its rows come from the model file, so every prover and verifier builds the same table.
//! A table longer than the circuit's other rows is split into banks, each with a lookup argument
//! of its own ([`super::threshold_table`]).

use halo2_proofs::{
    circuit::{Layouter, Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, TableColumn},
    poly::Rotation,
};

use super::table::RangeTable;
use super::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::field::{fp, pow2};
use crate::qgraph::requant::REQUANT_LIMB_BITS;
use crate::qgraph::threshold::{PieceCut, ThresholdMap, THRESHOLD_DOMAIN};

pub use super::threshold_table::{
    map_domains, table_len, table_of, TableBanks, ThresholdTable, MAX_CHUNKED_ROWS,
    MAX_THRESHOLD_BANKS,
};

/// Most limbs of each difference.
const MAX_LIMBS: usize = 3;

/// How a threshold row range-checks its two differences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThresholdLimbs {
    /// Three 12-bit limbs each, looked up in the range table (any k).
    #[default]
    Narrow,
    /// Two 18-bit limbs each, looked up in a limb table of the chip's own (`2^18` rows: `k >= 19`).
    Wide,
    /// One 12-bit limb each, looked up in the range table; the table's intervals are pieces of at
    /// most `2^12` accumulators within each map's domain.
    Chunked,
    /// One 16-bit limb each, looked up in a limb table of the chip's own (`2^16` rows: `k >= 17`);
    /// the table's intervals are pieces of at most `2^16` accumulators within each map's domain.
    ChunkedWide,
    /// One 12-bit limb of `acc - lo` alone: the table's pieces have lengths `2^b`, `b <= 12`
    /// ([`PieceCut::PowerOfTwo`]), the row holds `b` from its table row, and `(b, acc - lo)` is
    /// looked up in a table of the chip's own of all `(b, d)` with `0 <= d < 2^b` (`2^13 - 1` rows).
    Fitted,
    /// [`ThresholdLimbs::Fitted`] with `b <= 16` (a limb table of `2^17 - 1` rows: `k >= 18`).
    FittedWide,
}

impl ThresholdLimbs {
    /// Bits per limb.
    pub const fn bits(self) -> u32 {
        match self {
            ThresholdLimbs::Narrow | ThresholdLimbs::Chunked | ThresholdLimbs::Fitted => {
                REQUANT_LIMB_BITS
            }
            ThresholdLimbs::Wide => 18,
            ThresholdLimbs::ChunkedWide | ThresholdLimbs::FittedWide => 16,
        }
    }

    /// Limbs per difference.
    pub const fn count(self) -> usize {
        match self {
            ThresholdLimbs::Narrow => 3,
            ThresholdLimbs::Wide => 2,
            _ => 1,
        }
    }

    /// The differences a row checks: `acc - lo` and `hi - 1 - acc`, or `acc - lo` alone (fitted).
    pub const fn differences(self) -> usize {
        match self.is_fitted() {
            true => 1,
            false => 2,
        }
    }

    /// Lookup arguments of the chip: the threshold table's and one per limb.
    pub const fn lookups(self) -> usize {
        1 + self.differences() * self.count()
    }

    /// Advice cells of a row besides `acc` and `y`: the interval's ends (fitted: `lo` and the
    /// piece's bits) and the limbs.
    pub const fn cells(self) -> usize {
        2 + self.differences() * self.count()
    }

    /// Rows of the chip's own limb table (none for narrow limbs).
    pub const fn table_rows(self) -> usize {
        match self {
            ThresholdLimbs::Narrow | ThresholdLimbs::Chunked => 0,
            ThresholdLimbs::Wide => 1 << 18,
            ThresholdLimbs::ChunkedWide => 1 << 16,
            ThresholdLimbs::Fitted | ThresholdLimbs::FittedWide => (2 << self.bits()) - 1,
        }
    }

    /// Columns of the chip's own limb table: none, the limb, or (fitted) the bits and the limb.
    pub const fn table_columns(self) -> usize {
        match self {
            ThresholdLimbs::Narrow | ThresholdLimbs::Chunked => 0,
            ThresholdLimbs::Wide | ThresholdLimbs::ChunkedWide => 1,
            ThresholdLimbs::Fitted | ThresholdLimbs::FittedWide => 2,
        }
    }

    /// Whether the threshold table's intervals are pieces within each map's domain.
    pub const fn is_chunked(self) -> bool {
        !matches!(self, ThresholdLimbs::Narrow | ThresholdLimbs::Wide)
    }

    /// Whether the pieces' lengths are powers of two and rows check `acc - lo` alone.
    pub const fn is_fitted(self) -> bool {
        matches!(self, ThresholdLimbs::Fitted | ThresholdLimbs::FittedWide)
    }

    /// How the table cuts intervals into pieces (chunked limbs).
    pub const fn cut(self) -> PieceCut {
        match self.is_fitted() {
            true => PieceCut::PowerOfTwo,
            false => PieceCut::Consecutive,
        }
    }

    /// The limbs of the shape flags `(wide, chunked, fitted)` (see
    /// [`crate::circuit::shape::CircuitShape`]); `None` for fitted without chunked.
    pub const fn from_flags(wide: bool, chunked: bool, fitted: bool) -> Option<Self> {
        Some(match (wide, chunked, fitted) {
            (false, false, false) => ThresholdLimbs::Narrow,
            (true, false, false) => ThresholdLimbs::Wide,
            (false, true, false) => ThresholdLimbs::Chunked,
            (true, true, false) => ThresholdLimbs::ChunkedWide,
            (false, true, true) => ThresholdLimbs::Fitted,
            (true, true, true) => ThresholdLimbs::FittedWide,
            (_, false, true) => return None,
        })
    }

    /// The shape flags `(wide, chunked, fitted)` of these limbs.
    pub const fn flags(self) -> (bool, bool, bool) {
        let wide = matches!(
            self,
            ThresholdLimbs::Wide | ThresholdLimbs::ChunkedWide | ThresholdLimbs::FittedWide
        );
        (wide, self.is_chunked(), self.is_fitted())
    }

    /// The log2 of the least power of two holding the chip's own limb table (0: none).
    pub const fn table_k(self) -> u32 {
        self.table_rows().next_power_of_two().trailing_zeros()
    }

    /// `v`'s limbs, low first (unused ones 0).
    fn split(self, mut v: i64) -> [i64; MAX_LIMBS] {
        let base = 1i64 << self.bits();
        let mut out = [0; MAX_LIMBS];
        for l in out.iter_mut().take(self.count()) {
            *l = v.rem_euclid(base);
            v = v.div_euclid(base);
        }
        out
    }
}

impl std::fmt::Display for ThresholdLimbs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bits = self.bits();
        match self {
            ThresholdLimbs::Narrow | ThresholdLimbs::Wide => {
                write!(f, "{} {bits}-bit limbs per difference", self.count())
            }
            ThresholdLimbs::Chunked | ThresholdLimbs::ChunkedWide => write!(
                f,
                "chunked: one {bits}-bit limb per difference, pieces of at most 2^{bits}"
            ),
            ThresholdLimbs::Fitted | ThresholdLimbs::FittedWide => write!(
                f,
                "fitted: one limb of acc - lo, pieces of 2^b, b <= {bits}"
            ),
        }
    }
}

const _: () = {
    let span = THRESHOLD_DOMAIN.1 - THRESHOLD_DOMAIN.0;
    let narrow = ThresholdLimbs::Narrow;
    let wide = ThresholdLimbs::Wide;
    assert!(span <= 1i64 << (narrow.count() as u32 * narrow.bits()));
    assert!(span <= 1i64 << (wide.count() as u32 * wide.bits()));
    assert!(narrow.count() <= MAX_LIMBS && wide.count() <= MAX_LIMBS);
};

/// The bits `b` of a fitted piece `[lo, hi)`, `hi - lo = 2^b` (the floor of the log for other
/// lengths, 0 for empty ones: what a tampered witness's row then holds).
pub fn piece_bits(lo: i64, hi: i64) -> i64 {
    match hi - lo {
        n if n > 0 => n.ilog2() as i64,
        _ => 0,
    }
}

/// The columns, gate and lookups of threshold rows.
#[derive(Clone, Debug)]
pub struct ThresholdConfig {
    /// The accumulator (`a_0`, the link's target).
    pub acc: Column<Advice>,
    /// The output (the equality-enabled `x_0`).
    pub y: Column<Advice>,
    /// The interval's ends `lo` and `hi` (fitted limbs: `lo` and the piece's bits `b`, the piece
    /// being `[lo, lo + 2^b)`).
    pub ends: [Column<Advice>; 2],
    /// Limbs of `acc - lo`, low first.
    pub d: Vec<Column<Advice>>,
    /// Limbs of `hi - 1 - acc`, low first (none for fitted limbs).
    pub e: Vec<Column<Advice>>,
    /// The map's tag on each threshold row.
    pub tag: Column<Fixed>,
    /// Enables the gate and the limbs' lookups (and with one bank the table's lookup).
    pub selector: Selector,
    /// The table's `(tag, y, lo, hi)` columns, one set per bank (see [`super::threshold_table`]).
    pub table: Vec<[TableColumn; 4]>,
    /// With more than one bank, the selector of each bank's table lookup (none with one bank).
    pub bank_selectors: Vec<Selector>,
    /// The limbs' size.
    pub limbs: ThresholdLimbs,
    /// The chip's own limb table ([`ThresholdLimbs::table_columns`]): wide limbs' (`0..2^18`),
    /// chunked wide ones' (`0..2^16`), or fitted ones' `(b, d)` with `0 <= d < 2^b`.
    pub limb_table: Vec<TableColumn>,
}

/// The private values of one threshold row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThresholdWitness {
    /// The output.
    pub y: i64,
    /// The interval `[lo, hi)` holding the accumulator.
    pub ends: [i64; 2],
    /// Limbs of `acc - lo` (low first; unused ones 0).
    pub d: [i64; MAX_LIMBS],
    /// Limbs of `hi - 1 - acc`.
    pub e: [i64; MAX_LIMBS],
}

impl ThresholdWitness {
    /// The witness for output `y` at `acc`: the map's interval (its piece for chunked limbs), or
    /// the alternative's single accumulator; `None` when the map does not allow `y`, or for chunked
    /// limbs when `acc` is outside `domain` (the map's, see [`ThresholdMap::chunked_rows`]; other
    /// limbs ignore it).
    pub fn for_output(
        acc: i64,
        (map, domain): (&ThresholdMap, (i64, i64)),
        y: i64,
        limbs: ThresholdLimbs,
    ) -> Option<Self> {
        if map.apply(acc) == Some(y) {
            return Self::compute(acc, (map, domain), limbs);
        }
        map.alternatives.binary_search(&(acc, y)).ok()?;
        if limbs.is_chunked() && !(domain.0..=domain.1).contains(&acc) {
            return None;
        }
        Some(ThresholdWitness {
            y,
            ends: [acc, acc + 1],
            d: [0; MAX_LIMBS],
            e: [0; MAX_LIMBS],
        })
    }

    /// The honest witness for `acc` (the map's own output); `None` outside the map's domain
    /// (`domain` for chunked limbs, [`THRESHOLD_DOMAIN`] for the others).
    pub fn compute(
        acc: i64,
        (map, domain): (&ThresholdMap, (i64, i64)),
        limbs: ThresholdLimbs,
    ) -> Option<Self> {
        if limbs.is_chunked() {
            let (y, lo, hi) = map.chunk_of(acc, domain, limbs.bits(), limbs.cut())?;
            return Some(ThresholdWitness {
                y,
                ends: [lo, hi],
                d: limbs.split(acc - lo),
                e: limbs.split(hi - 1 - acc),
            });
        }
        let y = map.apply(acc)?;
        let i = (y - map.out_min) as usize;
        let lo = match i {
            0 => THRESHOLD_DOMAIN.0,
            _ => map.thresholds[i - 1],
        };
        let hi = map.thresholds.get(i).copied().unwrap_or(THRESHOLD_DOMAIN.1);
        Some(ThresholdWitness {
            y,
            ends: [lo, hi],
            d: limbs.split(acc - lo),
            e: limbs.split(hi - 1 - acc),
        })
    }
}

impl ThresholdConfig {
    /// `acc` is `a_0`, `y` the equality-enabled `x_0`; `cells` hold `[lo, hi, d.., e..]`
    /// (`limbs.cells()` of them); `tag` is a fixed column of the chip's own; the table is split
    /// into `banks` banks (1 to [`MAX_THRESHOLD_BANKS`]; one bank is the circuit of files written
    /// before banks).
    pub fn configure(
        meta: &mut ConstraintSystem<Fr>,
        (acc, y): (Column<Advice>, Column<Advice>),
        cells: &[Column<Advice>],
        (tag, range): (Column<Fixed>, &RangeTable),
        (limbs, banks): (ThresholdLimbs, usize),
    ) -> Self {
        assert!(
            (1..=MAX_THRESHOLD_BANKS).contains(&banks),
            "threshold table banks"
        );
        assert_eq!(
            range.limb_bits, REQUANT_LIMB_BITS,
            "threshold rows need 12-bit limbs"
        );
        assert_eq!(cells.len(), limbs.cells(), "threshold row cells");
        let n = limbs.count();
        let selector = meta.complex_selector();
        let ends = [cells[0], cells[1]];
        let d = cells[2..2 + n].to_vec();
        let e = cells[2 + n..].to_vec();
        let table: Vec<_> = (0..banks)
            .map(|_| [(); 4].map(|_| meta.lookup_table_column()))
            .collect();
        let bank_selectors: Vec<_> = match banks {
            1 => Vec::new(),
            _ => (0..banks).map(|_| meta.complex_selector()).collect(),
        };
        let limb_table: Vec<_> = (0..limbs.table_columns())
            .map(|_| meta.lookup_table_column())
            .collect();
        let base = pow2(limbs.bits());
        meta.create_gate("threshold", |c| {
            let s = c.query_selector(selector);
            let mut a = |col| c.query_advice(col, Rotation::cur());
            let mut sum = |ls: &[Column<Advice>]| {
                ls.iter()
                    .rev()
                    .fold(Expression::Constant(Fr::zero()), |acc, l| {
                        acc * Expression::Constant(base) + a(*l)
                    })
            };
            let (dv, ev) = (sum(&d), sum(&e));
            let (accv, lo, hi) = (a(acc), a(ends[0]), a(ends[1]));
            let one = Expression::Constant(Fr::one());
            let mut gate = vec![s.clone() * (accv.clone() - lo - dv)];
            if !limbs.is_fitted() {
                gate.push(s * (hi - one - accv - ev));
            }
            gate
        });
        for (b, bank) in table.iter().enumerate() {
            let (name, on) = match bank_selectors.get(b) {
                Some(on) => (format!("threshold table, bank {b}"), *on),
                None => ("threshold table".to_string(), selector),
            };
            meta.lookup(name, |c| {
                let s = c.query_selector(on);
                let t = c.query_fixed(tag, Rotation::cur());
                let cols = [
                    t,
                    c.query_advice(y, Rotation::cur()),
                    c.query_advice(ends[0], Rotation::cur()),
                    c.query_advice(ends[1], Rotation::cur()),
                ];
                cols.into_iter()
                    .zip(*bank)
                    .map(|(v, col)| (s.clone() * v, col))
                    .collect()
            });
        }
        let off = Expression::Constant(fp(range.offset()));
        let names = [
            [
                "threshold acc - lo 0",
                "threshold acc - lo 1",
                "threshold acc - lo 2",
            ],
            [
                "threshold hi - acc 0",
                "threshold hi - acc 1",
                "threshold hi - acc 2",
            ],
        ];
        for (names, cols) in names.iter().zip([&d, &e]) {
            for (name, col) in names.iter().zip(cols) {
                let (col, off) = (*col, off.clone());
                meta.lookup(*name, |c| {
                    let s = c.query_selector(selector);
                    let x = c.query_advice(col, Rotation::cur());
                    match limb_table[..] {
                        [t] => vec![(s * x, t)],
                        // Fitted: (b, acc - lo), b the piece's bits from its table row.
                        [bits, value] => {
                            let b = c.query_advice(ends[1], Rotation::cur());
                            vec![(s.clone() * b, bits), (s * x, value)]
                        }
                        _ => vec![(s.clone() * (x + off), range.value), (s, range.nonneg)],
                    }
                });
            }
        }
        ThresholdConfig {
            acc,
            y,
            ends,
            d,
            e,
            tag,
            selector,
            table,
            bank_selectors,
            limbs,
            limb_table,
        }
    }

    /// The banks of the threshold table.
    pub fn banks(&self) -> usize {
        self.table.len()
    }

    /// Fill the threshold table's banks, bank `b` with `(0, 0, 0, 0)`, then `banks[b]` (fitted
    /// limbs: `(tag, y, lo, b)` for each piece `[lo, lo + 2^b)`); and the chip's own limb table.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fr>,
        banks: &[ThresholdTable],
    ) -> Result<(), Error> {
        if banks.len() != self.table.len() {
            return Err(fail(SynthesisFailure::ThresholdBanks {
                circuit: self.table.len(),
                table: banks.len(),
            }));
        }
        if !self.limb_table.is_empty() {
            layouter.assign_table(
                || "threshold limbs",
                |mut t| {
                    let bits = 0..=self.limbs.bits() as i64;
                    let pairs: Box<dyn Iterator<Item = (i64, i64)>> = match self.limb_table[..] {
                        [_] => Box::new((0..self.limbs.table_rows() as i64).map(|v| (0, v))),
                        _ => Box::new(bits.flat_map(|b| (0..1i64 << b).map(move |v| (b, v)))),
                    };
                    let (last, rest) = self.limb_table.split_last().expect("a limb column");
                    for (i, (b, v)) in pairs.enumerate() {
                        t.assign_cell(|| "limb", *last, i, || Value::known(fp(v)))?;
                        for col in rest {
                            t.assign_cell(|| "limb bits", *col, i, || Value::known(fp(b)))?;
                        }
                    }
                    Ok(())
                },
            )?;
        }
        let fitted = self.limbs.is_fitted();
        for (columns, rows) in self.table.iter().zip(banks) {
            layouter.assign_table(
                || "threshold table",
                |mut t| {
                    let zero = std::iter::once(&(0, 0, 0, 0));
                    for (i, (tag, y, lo, hi)) in zero.chain(rows).enumerate() {
                        let last = match fitted {
                            true => piece_bits(*lo, *hi),
                            false => *hi,
                        };
                        for (col, v) in columns.iter().zip([*tag, *y, *lo, last]) {
                            t.assign_cell(|| "threshold", *col, i, || Value::known(fp(v)))?;
                        }
                    }
                    Ok(())
                },
            )?;
        }
        Ok(())
    }

    /// Assign one threshold row of map `tag` in table bank `bank` with the given witness; returns
    /// (acc cell, y cell). The caller enables the row's link.
    pub fn assign_with(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        acc: Value<i64>,
        (tag, bank): (i64, usize),
        w: Value<ThresholdWitness>,
    ) -> Result<(FpCell, FpCell), Error> {
        if bank >= self.table.len() {
            return Err(fail(SynthesisFailure::ThresholdBank {
                bank,
                circuit: self.table.len(),
            }));
        }
        self.selector.enable(region, row)?;
        if let Some(on) = self.bank_selectors.get(bank) {
            on.enable(region, row)?;
        }
        region.assign_fixed(self.tag, row, fp(tag));
        let acc_cell = FpCell::assign(region, self.acc, row, acc.map(fp));
        let fitted = self.limbs.is_fitted();
        for (k, col) in self.ends.iter().enumerate() {
            let end = move |w: ThresholdWitness| match (k, fitted) {
                (1, true) => piece_bits(w.ends[0], w.ends[1]),
                _ => w.ends[k],
            };
            FpCell::assign(region, *col, row, w.map(|w| fp(end(w))));
        }
        for (k, col) in self.d.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.d[k])));
        }
        for (k, col) in self.e.iter().enumerate() {
            FpCell::assign(region, *col, row, w.map(|w| fp(w.e[k])));
        }
        let y = FpCell::assign(region, self.y, row, w.map(|w| fp(w.y)));
        Ok((acc_cell, y))
    }

    /// Assign one threshold row with the honest witness: output `y` (the trace's, which may be an
    /// alternative) or the map's own (a witness error outside the domain or for a `y` not allowed);
    /// `domain` is the map's (see [`ThresholdWitness::compute`]), `bank` its table bank.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        (acc, y): (Option<i64>, Option<i64>),
        (tag, bank): (i64, usize),
        (map, domain): (&ThresholdMap, (i64, i64)),
    ) -> Result<(FpCell, FpCell), Error> {
        let w = match acc {
            Some(a) => {
                let w = match y {
                    Some(y) => ThresholdWitness::for_output(a, (map, domain), y, self.limbs),
                    None => ThresholdWitness::compute(a, (map, domain), self.limbs),
                };
                Value::known(w.ok_or_else(|| fail(SynthesisFailure::Requant(a)))?)
            }
            None => Value::unknown(),
        };
        let acc_v = acc.map(Value::known).unwrap_or(Value::unknown());
        self.assign_with(region, row, acc_v, (tag, bank), w)
    }
}
