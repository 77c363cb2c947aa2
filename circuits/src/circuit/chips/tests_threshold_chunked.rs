//! MockProver tests of threshold rows with chunked limbs (one limb per difference, 12 bits or 16 in
//! a limb table of their own; the table's intervals cut to each map's domain and split into pieces
//! of at most one limb's range) and fitted ones (pieces of power-of-two lengths, `acc - lo` alone
//! checked against the piece's bits): honest rows, and tampered ones (an output one level off, the
//! neighbouring piece, the whole uncut interval, limbs off the gate, a piece's bits off its row).

use halo2_proofs::dev::{MockProver, VerifyFailure};

use super::tests_threshold::{
    is_gate, is_lookup, lookup_fails_gate_holds, one_level_off_fails_the_table, ort_map, Tamper,
    ThresholdCircuit,
};
use super::threshold::{ThresholdLimbs, ThresholdWitness};
use crate::qgraph::requant::ort_requantize;

/// The maps' scales and zero points: a level about 1,368 accumulators wide, one 73 wide, and one
/// 500,000 wide (its levels span many pieces).
const MAPS: [(f32, i64); 3] = [(0.000_731_2, -3), (0.0137, -128), (2.0e-6, 5)];

thread_local! {
    /// The limbs the tests of this thread use.
    static LIMBS: std::cell::Cell<ThresholdLimbs> = const { std::cell::Cell::new(ThresholdLimbs::Chunked) };
}

/// Run `test` with chunked limbs of 12 bits, of 16, then fitted ones of 12 and 16.
fn each_limb_size(test: fn()) {
    for limbs in [
        ThresholdLimbs::Chunked,
        ThresholdLimbs::ChunkedWide,
        ThresholdLimbs::Fitted,
        ThresholdLimbs::FittedWide,
    ] {
        LIMBS.with(|l| l.set(limbs));
        test();
    }
}

/// The limbs under test.
fn limbs() -> ThresholdLimbs {
    LIMBS.with(|l| l.get())
}

/// The longest piece of the limbs under test.
fn piece() -> i64 {
    1 << limbs().bits()
}

/// Rows of three maps (cases 0-4 map 0's, 5-7 map 1's, 8-11 map 2's) with the limbs under test.
pub(super) fn honest() -> ThresholdCircuit {
    ThresholdCircuit {
        maps: MAPS
            .iter()
            .map(|(s, z)| ort_map(*s, *z, (-128, 127)))
            .collect(),
        domains: vec![(-20_000, 20_000), (-5_000, 12_000), (-1_000_000, 1_000_000)],
        cases: vec![
            (1000, 0),
            (-1000, 0),
            (0, 0),
            (20_000, 0),  // the domain's top
            (-20_000, 0), // its bottom
            (3, 1),
            (-40, 1),
            (9000, 1), // saturated: a piece of the top level
            (123_456, 2),
            (-999_999, 2),
            (1_000_000, 2),
            (250_001, 2), // a level's middle, pieces away from its start
        ],
        tamper: None,
        limbs: LIMBS.with(|l| l.get()),
        banks: 1,
        rebank: None,
    }
}

/// 2^13 rows hold the table of 12-bit pieces; the limb tables need their own rows (2^16, or for
/// fitted limbs 2^13 - 1 and 2^17 - 1).
fn k() -> u32 {
    match limbs() {
        ThresholdLimbs::ChunkedWide => 17,
        ThresholdLimbs::Fitted => 14,
        ThresholdLimbs::FittedWide => 18,
        _ => 13,
    }
}

fn failures(case: usize, tamper: Tamper) -> Vec<VerifyFailure> {
    let mut c = honest();
    c.tamper = Some((case, tamper));
    MockProver::run(k(), &c, vec![])
        .unwrap()
        .verify()
        .unwrap_err()
}

/// Move the row to the piece `pieces` pieces of the longest length away, its limbs following so
/// the gate still holds.
fn shift_piece(w: &mut ThresholdWitness, pieces: i64) {
    let p = pieces * piece();
    w.ends = [w.ends[0] + p, w.ends[1] + p];
    w.d[0] -= p;
    w.e[0] += p;
}

#[test]
fn chunked_rows_match_onnxruntime_and_verify() {
    assert_eq!(
        ThresholdLimbs::Chunked.lookups() + 4,
        ThresholdLimbs::Narrow.lookups()
    );
    assert_eq!(
        ThresholdLimbs::ChunkedWide.lookups(),
        ThresholdLimbs::Chunked.lookups()
    );
    assert_eq!(
        ThresholdLimbs::Fitted.lookups() + 1,
        ThresholdLimbs::Chunked.lookups()
    );
    assert_eq!(
        ThresholdLimbs::Fitted.cells() + 1,
        ThresholdLimbs::Chunked.cells()
    );
    each_limb_size(|| {
        let c = honest();
        for (acc, m) in &c.cases {
            let (scale, zp) = MAPS[*m];
            let w = ThresholdWitness::compute(*acc, c.map(*m), c.limbs).unwrap();
            assert_eq!(w.y, ort_requantize(*acc, scale, zp, (-128, 127)));
            let len = w.ends[1] - w.ends[0];
            assert!(len <= piece(), "a piece of at most a limb");
            assert!(!c.limbs.is_fitted() || len.count_ones() == 1, "{len}");
        }
        MockProver::run(k(), &c, vec![]).unwrap().assert_satisfied();
    });
}

#[test]
fn an_accumulator_outside_its_maps_domain_has_no_piece() {
    each_limb_size(|| {
        let c = honest();
        assert!(ThresholdWitness::compute(20_001, c.map(0), c.limbs).is_none());
        assert!(ThresholdWitness::compute(-20_001, c.map(0), c.limbs).is_none());
        // Narrow limbs ignore the domain.
        assert!(ThresholdWitness::compute(20_001, c.map(0), ThresholdLimbs::Narrow).is_some());
    });
}

#[test]
fn an_output_one_level_off_fails_the_table() {
    each_limb_size(|| one_level_off_fails_the_table(failures));
}

#[test]
fn the_next_piece_of_the_same_level_fails_the_limbs() {
    // Case 11 sits in a level 500,000 wide: the next piece is a table row with the same output,
    // but acc lies below it, so acc - lo is negative (and hi - 1 - acc at least a piece).
    each_limb_size(|| {
        let f = failures(11, |w| shift_piece(w, 1));
        match limbs().is_fitted() {
            // No upper difference: the pair (b, acc - lo) leaves the limb table.
            true => lookup_fails_gate_holds(&f, "threshold acc - lo 0", 12),
            false => {
                assert!(
                    f.iter().any(|f| is_lookup(f, "threshold acc - lo 0", 12)),
                    "{f:?}"
                );
                lookup_fails_gate_holds(&f, "threshold hi - acc 0", 12);
            }
        }
        assert!(
            !f.iter().any(|f| is_lookup(f, "threshold table", 12)),
            "the piece is a table row: {f:?}"
        );
    });
}

#[test]
fn the_uncut_interval_is_not_a_table_row() {
    each_limb_size(|| {
        // The level's whole interval holds acc (acc - lo is small, hi - 1 - acc is not), but only its
        // pieces are rows of the table.
        let c = honest();
        let (acc, m) = c.cases[11];
        let map = &c.maps[m];
        let y = map.apply(acc).unwrap();
        let i = (y - map.out_min) as usize;
        let (lo, hi) = (map.thresholds[i - 1], map.thresholds[i]);
        assert!(hi - lo > 1 << 12, "a level wider than a piece");
        thread_local! { static ENDS: std::cell::Cell<[i64; 2]> = const { std::cell::Cell::new([0, 0]) }; }
        ENDS.with(|e| e.set([lo, hi]));
        let f = failures(11, |w| {
            let [lo, hi] = ENDS.with(|e| e.get());
            let acc = w.ends[0] + w.d[0];
            w.ends = [lo, hi];
            w.d[0] = acc - lo;
            w.e[0] = hi - 1 - acc;
        });
        lookup_fails_gate_holds(&f, "threshold table", 12);
    });
}

#[test]
fn wrong_limbs_fail_the_gate() {
    each_limb_size(|| {
        let f = failures(1, |w| w.d[0] = (w.d[0] + 1) % piece());
        assert!(f.iter().any(|f| is_gate(f, 2)), "{f:?}");
    });
}

#[test]
fn a_limb_beyond_its_size_fails_the_limb_lookup() {
    // acc - lo one piece further down, its carry taken from hi - 1 - acc: the gate holds, but the
    // limbs leave [0, piece).
    each_limb_size(|| {
        let f = failures(11, |w| {
            let p = piece();
            w.ends = [w.ends[0] - p, w.ends[1]];
            w.d[0] += p;
        });
        lookup_fails_gate_holds(&f, "threshold acc - lo 0", 12);
    });
}

#[test]
fn the_previous_piece_of_the_same_level_fails_the_limbs() {
    // Case 8 lies pieces away from its level's start: the previous piece is a table row with the
    // same output and acc lies above it, so acc - lo is at least a piece, a limb outside its table
    // while the gate and the threshold table hold.
    each_limb_size(|| {
        let f = failures(8, |w| shift_piece(w, -1));
        lookup_fails_gate_holds(&f, "threshold acc - lo 0", 9);
        assert!(
            !f.iter().any(|f| is_lookup(f, "threshold table", 9)),
            "the piece is a table row: {f:?}"
        );
    });
}

#[test]
fn a_fitted_piece_with_other_bits_fails_the_table() {
    // A fitted row's bits come from its table row: twice the honest piece holds acc - lo in the
    // limb table, but (tag, y, lo, b + 1) is no row of the table.
    for limbs in [ThresholdLimbs::Fitted, ThresholdLimbs::FittedWide] {
        LIMBS.with(|l| l.set(limbs));
        let f = failures(0, |w| w.ends[1] += w.ends[1] - w.ends[0]);
        lookup_fails_gate_holds(&f, "threshold table", 1);
        assert!(
            !f.iter().any(|f| is_lookup(f, "threshold acc - lo 0", 1)),
            "acc - lo is below the doubled piece: {f:?}"
        );
    }
}
