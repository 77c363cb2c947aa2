//! The `.ptau` reader on a file made by snarkjs (`fixtures/make_ptau.sh`): its section table, its
//! point counts, and its points, which must decode (Montgomery form, little-endian) to the values
//! snarkjs's own decoder gives (`fixtures/ptau/pot6_expected.json`), the generators among them.

mod common;

use circuits::setup::ptau::{Ptau, PtauError, BN254_Q, G1_BYTES, N8};
use common::fixture;
use serde_json::Value;

/// A 256-bit number as four little-endian 64-bit limbs.
type U256 = [u64; 4];

fn from_decimal(s: &str) -> U256 {
    let mut x = [0u64; 4];
    for d in s.bytes() {
        let mut carry = (d - b'0') as u128;
        for limb in &mut x {
            let v = *limb as u128 * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        assert_eq!(carry, 0, "{s} fits 256 bits");
    }
    x
}

fn q() -> U256 {
    let mut x = [0u64; 4];
    for (i, limb) in x.iter_mut().enumerate() {
        let hex = &BN254_Q[64 - 16 * (i + 1)..64 - 16 * i];
        *limb = u64::from_str_radix(hex, 16).unwrap();
    }
    x
}

fn geq(a: &U256, b: &U256) -> bool {
    a.iter().rev().cmp(b.iter().rev()) != std::cmp::Ordering::Less
}

fn sub(a: &U256, b: &U256) -> U256 {
    let mut out = [0u64; 4];
    let mut borrow = 0u64;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow);
        out[i] = d;
        borrow = (b1 || b2) as u64;
    }
    out
}

/// `x · 2^256 mod q` (the Montgomery form the file stores), by 256 doublings mod q.
fn montgomery(mut x: U256) -> U256 {
    let q = q();
    for _ in 0..256 {
        let top = x[3] >> 63;
        let mut carry = 0;
        for limb in &mut x {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if top == 1 || geq(&x, &q) {
            x = sub(&x, &q);
        }
    }
    x
}

fn le_bytes(x: U256) -> Vec<u8> {
    x.iter().flat_map(|l| l.to_le_bytes()).collect()
}

fn coordinate(s: &Value) -> Vec<u8> {
    le_bytes(montgomery(from_decimal(s.as_str().unwrap())))
}

#[test]
fn a_snarkjs_file_reads_with_its_sections_and_points() {
    let bytes = std::fs::read(fixture("ptau/pot6_final.ptau")).unwrap();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture("ptau/pot6_expected.json")).unwrap())
            .unwrap();
    let p = Ptau::parse(&bytes).unwrap();
    assert_eq!(p.power, 6);
    assert_eq!(p.g1_count(), 127);
    assert_eq!(p.g2_count(), 64);
    let sections: Vec<(u64, u64, u64)> = p
        .sections
        .iter()
        .map(|s| (s.id as u64, s.offset as u64, s.size as u64))
        .collect();
    let want: Vec<(u64, u64, u64)> = expected["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            (n("id"), n("offset"), n("size"))
        })
        .collect();
    assert_eq!(sections, want);

    let points = &expected["points"];
    // G1's generator is (1, 2).
    assert_eq!(points["tauG1[0]"], serde_json::json!(["1", "2"]));
    for i in [0usize, 1, 2, 126] {
        let xy = &points[format!("tauG1[{i}]")];
        let want = [coordinate(&xy[0]), coordinate(&xy[1])].concat();
        assert_eq!(p.g1(i).unwrap(), &want[..], "tauG1[{i}]");
    }
    for i in [0usize, 1] {
        let g = &points[format!("tauG2[{i}]")];
        let want = [
            coordinate(&g[0][0]),
            coordinate(&g[0][1]),
            coordinate(&g[1][0]),
            coordinate(&g[1][1]),
        ]
        .concat();
        assert_eq!(p.g2(i).unwrap(), &want[..], "tauG2[{i}]");
    }
    assert_eq!(p.g1_powers(5).unwrap().len(), 32 * G1_BYTES);
    assert_eq!(p.g1_powers(6).unwrap().len(), 64 * G1_BYTES);
    assert_eq!(p.g1_powers(7), Err(PtauError::TooSmall { k: 7, power: 6 }));
    assert_eq!(N8, 32);

    // The file before `prepare phase2` has the same points.
    let contributed = std::fs::read(fixture("ptau/pot6_contributed.ptau")).unwrap();
    let c = Ptau::parse(&contributed).unwrap();
    assert_eq!(c.power, 6);
    assert_eq!(c.sections.len() + 4, p.sections.len());
}

#[test]
fn the_montgomery_conversion_of_the_test_is_right() {
    // 1 in Montgomery form is 2^256 mod q; q - 1 is -1, whose form is q - (2^256 mod q).
    let one = montgomery([1, 0, 0, 0]);
    let r = from_decimal(
        "6350874878119819312338956282401532409788428879151445726012394534686998597021",
    );
    assert_eq!(one, r);
    let minus_one = montgomery(sub(&q(), &[1, 0, 0, 0]));
    assert_eq!(minus_one, sub(&q(), &r));
}
