//! MockProver tests of threshold rows: onnxruntime's float32 requantization through its thresholds,
//! honest and tampered (an output one level off, an interval of another level, of another map, limbs
//! that hide a negative difference).

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{FailureLocation, MockProver, VerifyFailure},
    halo2curves::bn256::Fr,
    plonk::{Circuit, ConstraintSystem, Error},
};

use super::table::RangeTable;
use super::threshold::{
    TableBanks, ThresholdConfig, ThresholdLimbs, ThresholdTable, ThresholdWitness,
};
use crate::qgraph::requant::{ort_requantize, REQUANT_LIMB_BITS};
use crate::qgraph::threshold::{ThresholdMap, THRESHOLD_DOMAIN};

pub(super) type Tamper = fn(&mut ThresholdWitness);

/// One threshold row per case at row `1 + i` (row 0 is a spacer); maps are tagged from 1.
#[derive(Clone)]
pub(super) struct ThresholdCircuit {
    pub maps: Vec<ThresholdMap>,
    /// Each map's domain (chunked limbs only; empty: the whole domain).
    pub domains: Vec<(i64, i64)>,
    /// (accumulator, map index).
    pub cases: Vec<(i64, usize)>,
    pub tamper: Option<(usize, Tamper)>,
    pub limbs: ThresholdLimbs,
    /// The threshold table's banks.
    pub banks: usize,
    /// A case whose row enables another bank's lookup than its map's: `(case, bank)`.
    pub rebank: Option<(usize, usize)>,
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    threshold: ThresholdConfig,
    range: RangeTable,
}

impl ThresholdCircuit {
    /// Map `m` and its domain.
    pub fn map(&self, m: usize) -> (&ThresholdMap, (i64, i64)) {
        let whole = (THRESHOLD_DOMAIN.0, THRESHOLD_DOMAIN.1 - 1);
        (&self.maps[m], self.domains.get(m).copied().unwrap_or(whole))
    }

    /// The banks of the maps' table rows.
    pub fn banks(&self) -> TableBanks {
        let table = self.table();
        let counts: Vec<usize> = (1..=self.maps.len() as i64)
            .map(|t| table.iter().filter(|r| r.0 == t).count())
            .collect();
        TableBanks::split(&counts, self.banks)
    }

    /// The bank case `i`'s row enables: its map's, unless `rebank` moves it.
    fn bank_of(&self, i: usize, own: usize) -> usize {
        match self.rebank {
            Some((case, bank)) if case == i => bank,
            _ => own,
        }
    }

    fn table(&self) -> ThresholdTable {
        let mut rows = Vec::new();
        for t in 0..self.maps.len() {
            let (m, domain) = self.map(t);
            let intervals = match self.limbs {
                l if l.is_chunked() => m.chunked_rows(domain, l.bits(), l.cut()),
                _ => m.intervals(),
            };
            for (y, lo, hi) in intervals {
                rows.push((t as i64 + 1, y, lo, hi));
            }
        }
        rows
    }
}

impl Circuit<Fr> for ThresholdCircuit {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = (ThresholdLimbs, usize);
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn params(&self) -> (ThresholdLimbs, usize) {
        (self.limbs, self.banks)
    }
    fn configure_with_params(
        meta: &mut ConstraintSystem<Fr>,
        (limbs, banks): (ThresholdLimbs, usize),
    ) -> Config {
        let a: Vec<_> = (0..1 + limbs.cells())
            .map(|_| meta.advice_column())
            .collect();
        let y = meta.advice_column();
        meta.enable_equality(y);
        let tag = meta.fixed_column();
        let range = RangeTable::configure(meta, REQUANT_LIMB_BITS);
        let threshold =
            ThresholdConfig::configure(meta, (a[0], y), &a[1..], (tag, &range), (limbs, banks));
        Config { threshold, range }
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        Self::configure_with_params(meta, (ThresholdLimbs::Narrow, 1))
    }
    fn synthesize(&self, config: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        config.range.load(&mut layouter)?;
        let banks = self.banks();
        config
            .threshold
            .load(&mut layouter, &banks.split_table(&self.table()))?;
        layouter.assign_region(
            || "threshold",
            |mut region| {
                region.assign_fixed(config.threshold.tag, 0, Fr::zero());
                for (i, (acc, m)) in self.cases.iter().enumerate() {
                    let mut w = ThresholdWitness::compute(*acc, self.map(*m), self.limbs)
                        .expect("in the domain");
                    if let Some((t, f)) = self.tamper {
                        if t == i {
                            f(&mut w);
                        }
                    }
                    config.threshold.assign_with(
                        &mut region,
                        1 + i,
                        Value::known(*acc),
                        (*m as i64 + 1, self.bank_of(i, banks.of_map[*m])),
                        Value::known(w),
                    )?;
                }
                Ok(())
            },
        )
    }
}

pub(super) fn ort_map(scale: f32, zp: i64, range: (i64, i64)) -> ThresholdMap {
    ThresholdMap::from_fn(&|acc| ort_requantize(acc, scale, zp, range), range)
}

fn honest() -> ThresholdCircuit {
    let maps = vec![
        ort_map(0.000_731_2, -3, (-128, 127)),
        ort_map(0.0137, -128, (-128, 127)),
    ];
    let cases = vec![
        (1000, 0),
        (-1000, 0),
        (1 << 24, 0),    // saturates high
        (-(1 << 24), 0), // saturates low
        (0, 0),
        (i32::MAX as i64, 0),
        (i32::MIN as i64, 0),
        (3, 1),
        (-40, 1), // below zero: the ReLU-like floor
        (9000, 1),
    ];
    ThresholdCircuit {
        maps,
        domains: Vec::new(),
        cases,
        tamper: None,
        limbs: ThresholdLimbs::Narrow,
        banks: 1,
        rebank: None,
    }
}

fn k() -> u32 {
    13
}

#[test]
fn honest_rows_match_onnxruntime_and_verify() {
    let c = honest();
    for (acc, m) in &c.cases {
        let (scale, zp) = [(0.000_731_2f32, -3), (0.0137, -128)][*m];
        let w = ThresholdWitness::compute(*acc, c.map(*m), c.limbs).unwrap();
        assert_eq!(
            w.y,
            ort_requantize(*acc, scale, zp, (-128, 127)),
            "acc {acc}"
        );
    }
    MockProver::run(k(), &c, vec![]).unwrap().assert_satisfied();
}

/// The failures of a tampered case at row `1 + case`.
fn failures(case: usize, tamper: Tamper) -> Vec<VerifyFailure> {
    let mut c = honest();
    c.tamper = Some((case, tamper));
    MockProver::run(k(), &c, vec![])
        .unwrap()
        .verify()
        .unwrap_err()
}

/// The row of a failure's location.
pub(super) fn row_of(location: &FailureLocation) -> usize {
    match location {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    }
}

/// Whether `f` is lookup `name` failing at `row`.
pub(super) fn is_lookup(f: &VerifyFailure, name: &str, row: usize) -> bool {
    matches!(f, VerifyFailure::Lookup { name: n, location, .. } if n == name && row_of(location) == row)
}

/// Asserts that lookup `name` fails at `row` while the threshold gate there holds (a forgery that
/// satisfies the gate and is caught by the lookup alone).
pub(super) fn lookup_fails_gate_holds(f: &[VerifyFailure], name: &str, row: usize) {
    assert!(f.iter().any(|x| is_lookup(x, name, row)), "{f:?}");
    assert!(!f.iter().any(|x| is_gate(x, row)), "the gate holds: {f:?}");
}

pub(super) fn is_gate(f: &VerifyFailure, row: usize) -> bool {
    matches!(f, VerifyFailure::ConstraintNotSatisfied { constraint, location, .. }
        if format!("{constraint}").contains("threshold") && row_of(location) == row)
}

/// An output one level off at case 0 fails the threshold table's lookup at row 1.
pub(super) fn one_level_off_fails_the_table(failures: fn(usize, Tamper) -> Vec<VerifyFailure>) {
    let f = failures(0, |w| w.y += 1);
    assert!(
        f.iter().any(|f| is_lookup(f, "threshold table", 1)),
        "{f:?}"
    );
}

#[test]
fn an_output_one_level_off_fails_the_table() {
    one_level_off_fails_the_table(failures);
}

#[test]
fn the_neighbouring_interval_fails_the_limbs() {
    // Claim the next level with its true interval: acc lies below it, so acc - lo is negative and
    // its limbs cannot add up.
    let mut c = honest();
    let map = c.maps[0].clone();
    let acc = c.cases[0].0;
    let w = ThresholdWitness::compute(acc, c.map(0), c.limbs).unwrap();
    let i = (w.y - map.out_min) as usize;
    let (lo, hi) = (map.thresholds[i], map.thresholds[i + 1]);
    c.tamper = None;
    let forged = ThresholdWitness {
        y: w.y + 1,
        ends: [lo, hi],
        d: [0; 3],
        e: [0; 3],
    };
    // Limbs that satisfy the gate can only be those of a negative number: some limb leaves [0, B).
    let base = 1i64 << REQUANT_LIMB_BITS;
    let neg = acc - lo;
    assert!(neg < 0);
    let mut d = [0i64; 3];
    let mut v = neg;
    for l in d.iter_mut().take(2) {
        *l = v.rem_euclid(base);
        v = v.div_euclid(base);
    }
    d[2] = v; // negative
    let e = {
        let mut e = [0i64; 3];
        let mut v = hi - 1 - acc;
        for l in &mut e {
            *l = v.rem_euclid(base);
            v = v.div_euclid(base);
        }
        e
    };
    let forged = ThresholdWitness { d, e, ..forged };
    thread_local! { static FORGED: std::cell::Cell<Option<ThresholdWitness>> = const { std::cell::Cell::new(None) }; }
    FORGED.with(|f| f.set(Some(forged)));
    c.tamper = Some((0, |w| *w = FORGED.with(|f| f.get()).unwrap()));
    let f = MockProver::run(k(), &c, vec![])
        .unwrap()
        .verify()
        .unwrap_err();
    lookup_fails_gate_holds(&f, "threshold acc - lo 2", 1);
}

#[test]
fn another_maps_interval_fails_the_table() {
    // Row 8 (case 7) reads map 2; an interval of map 1 holding its accumulator is not map 2's row.
    let c = honest();
    let acc = c.cases[7].0;
    let other = ThresholdWitness::compute(acc, c.map(0), c.limbs).unwrap();
    let own = ThresholdWitness::compute(acc, c.map(1), c.limbs).unwrap();
    assert_ne!(other.y, own.y);
    thread_local! { static OTHER: std::cell::Cell<Option<ThresholdWitness>> = const { std::cell::Cell::new(None) }; }
    OTHER.with(|f| f.set(Some(other)));
    let f = failures(7, |w| *w = OTHER.with(|f| f.get()).unwrap());
    assert!(
        f.iter().any(|f| is_lookup(f, "threshold table", 8)),
        "{f:?}"
    );
}

#[test]
fn wrong_limbs_fail_the_gate() {
    let f = failures(1, |w| w.d[0] = (w.d[0] + 1) % 4096);
    assert!(f.iter().any(|f| is_gate(f, 2)), "{f:?}");
}

/// Wide limbs: their table has 2^18 rows, so k = 19.
fn wide_failures(case: usize, tamper: Option<Tamper>) -> Result<(), Vec<VerifyFailure>> {
    let mut c = honest();
    c.limbs = ThresholdLimbs::Wide;
    c.tamper = tamper.map(|t| (case, t));
    MockProver::run(19, &c, vec![]).unwrap().verify()
}

#[test]
fn wide_limbs_verify_honest_rows_and_reject_wrong_ones() {
    assert_eq!(
        ThresholdLimbs::Wide.lookups() + 2,
        ThresholdLimbs::Narrow.lookups()
    );
    wide_failures(0, None).expect("honest rows with wide limbs");
    // Wrong limbs: the gate.
    let f = wide_failures(1, Some(|w| w.d[0] = (w.d[0] + 1) % (1 << 18))).unwrap_err();
    assert!(f.iter().any(|f| is_gate(f, 2)), "{f:?}");
    // A low limb of 2^18 (its carry taken from the high limb): the sum holds, the limb table fails.
    let f = wide_failures(
        5, // i32::MAX: far above its interval's low end
        Some(|w| {
            assert!(w.d[1] > 0, "a high limb to borrow from");
            w.d[0] += 1 << 18;
            w.d[1] -= 1;
        }),
    )
    .unwrap_err();
    lookup_fails_gate_holds(&f, "threshold acc - lo 0", 6);
}

#[test]
fn wide_limbs_cannot_hide_a_negative_difference() {
    // The next level with its true interval: acc - lo < 0, so the high limb is negative.
    let c = honest();
    let (map, acc) = (c.maps[0].clone(), c.cases[0].0);
    let w = ThresholdWitness::compute(acc, c.map(0), ThresholdLimbs::Wide).unwrap();
    let i = (w.y - map.out_min) as usize;
    let (lo, hi) = (map.thresholds[i], map.thresholds[i + 1]);
    let base = 1i64 << 18;
    let neg = acc - lo;
    assert!(neg < 0);
    let forged = ThresholdWitness {
        y: w.y + 1,
        ends: [lo, hi],
        d: [neg.rem_euclid(base), neg.div_euclid(base), 0],
        e: [(hi - 1 - acc) % base, (hi - 1 - acc) / base, 0],
    };
    thread_local! { static WIDE: std::cell::Cell<Option<ThresholdWitness>> = const { std::cell::Cell::new(None) }; }
    WIDE.with(|f| f.set(Some(forged)));
    let f = wide_failures(0, Some(|w| *w = WIDE.with(|f| f.get()).unwrap())).unwrap_err();
    lookup_fails_gate_holds(&f, "threshold acc - lo 1", 1);
}
