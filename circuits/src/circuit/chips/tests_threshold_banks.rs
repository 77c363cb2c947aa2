//! MockProver tests of a threshold table split into banks ([`super::threshold_table`]): honest rows
//! verify with one, two and three banks (the third empty); a wrong output fails the lookup of its map's bank at its
//! row; a row that enables another bank's lookup fails there (each bank holds its own maps' rows
//! alone); a row naming a bank the circuit lacks is refused.

use halo2_proofs::dev::MockProver;

use super::tests_threshold::{lookup_fails_gate_holds, Tamper, ThresholdCircuit};
use super::threshold::ThresholdLimbs;

/// Chunked rows of three maps whose tables differ in length (the third spans many pieces).
fn honest(banks: usize) -> ThresholdCircuit {
    ThresholdCircuit {
        limbs: ThresholdLimbs::Chunked,
        banks,
        ..super::tests_threshold_chunked::honest()
    }
}

const K: u32 = 13;

#[test]
fn banked_rows_verify_and_each_map_is_in_one_bank() {
    for banks in 1..=3 {
        let c = honest(banks);
        let split = c.banks();
        assert_eq!(split.rows.len(), banks);
        MockProver::run(K, &c, vec![]).unwrap().assert_satisfied();
    }
    // Two banks: the third map (by far the longest) alone; no third bank can make the largest
    // smaller, so a third is empty.
    assert_eq!(honest(2).banks().of_map, vec![0, 0, 1]);
    let three = honest(3).banks();
    assert_eq!((three.of_map, three.rows[2]), (vec![0, 0, 1], 0));
}

/// The failures of case `case` tampered by `tamper` with two banks.
fn failures(case: usize, tamper: Tamper) -> Vec<halo2_proofs::dev::VerifyFailure> {
    let mut c = honest(2);
    c.tamper = Some((case, tamper));
    MockProver::run(K, &c, vec![])
        .unwrap()
        .verify()
        .unwrap_err()
}

#[test]
fn a_wrong_output_fails_the_lookup_of_its_maps_bank() {
    // Case 8 (row 9) is map 2's, in bank 1; case 5 (row 6) map 1's, in bank 0.
    let f = failures(8, |w| w.y += 1);
    lookup_fails_gate_holds(&f, "threshold table, bank 1", 9);
    let f = failures(5, |w| w.y -= 1);
    lookup_fails_gate_holds(&f, "threshold table, bank 0", 6);
}

#[test]
fn a_row_in_another_bank_fails_that_banks_lookup() {
    // Case 0 is map 0's (bank 0): its honest row, looked up in bank 1, is not there.
    let mut c = honest(2);
    c.rebank = Some((0, 1));
    let f = MockProver::run(K, &c, vec![])
        .unwrap()
        .verify()
        .unwrap_err();
    lookup_fails_gate_holds(&f, "threshold table, bank 1", 1);
    assert_eq!(f.len(), 1, "{f:?}");
}

#[test]
fn a_bank_the_circuit_lacks_is_refused() {
    let mut c = honest(2);
    c.rebank = Some((0, 2));
    assert!(MockProver::run(K, &c, vec![]).is_err());
}
