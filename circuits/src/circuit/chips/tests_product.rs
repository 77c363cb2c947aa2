//! MockProver tests of product rows: honest, a wrong product, a wrong factor copy.

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::{FailureLocation, MockProver, VerifyFailure},
    halo2curves::bn256::Fr,
    plonk::{Circuit, ConstraintSystem, Error},
};

use super::link::LinkConfig;
use super::mac::MacConfig;
use super::product::ProductConfig;
use super::FpCell;
use crate::field::fp;

const P: usize = 2;
const W: usize = 5;

/// Products of pairs, each followed by a pass link row that moves it out. Row 0 is a spacer (with a
/// fixed cell, so MockProver's region offsets are absolute rows); pair `i` takes rows `1 + 2i`
/// (product) and `2 + 2i` (link).
#[derive(Clone)]
struct ProductCircuit {
    pairs: Vec<(i64, i64)>,
    /// Replace the product of pair `i` (and the link's output with it) by this value.
    tamper_product: Option<(usize, i64)>,
    /// Replace the link output of pair `i` by this value.
    tamper_out: Option<(usize, i64)>,
    /// Copy the first factor of pair `i` from the output of pair `j` (checked by the permutation).
    copy_factor: Option<(usize, usize)>,
}

#[derive(Clone, Debug)]
struct Config {
    mac: MacConfig,
    product: ProductConfig,
    link: LinkConfig,
}

impl Circuit<Fr> for ProductCircuit {
    type Config = Config;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Config {
        let x: Vec<_> = (0..P)
            .map(|_| {
                let c = meta.advice_column();
                meta.enable_equality(c);
                c
            })
            .collect();
        let acc: Vec<_> = (0..W).map(|_| meta.advice_column()).collect();
        let f: Vec<_> = (0..W * P).map(|_| meta.fixed_column()).collect();
        let chain = meta.fixed_column();
        let mac = MacConfig::configure(meta, x.clone(), acc.clone(), f.clone(), chain, 4, None);
        let product = ProductConfig::configure(meta, &mac);
        let link = LinkConfig::configure(meta, acc, x[0], f[3], f[4], 8, None);
        Config { mac, product, link }
    }
    fn synthesize(&self, config: Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_region(
            || "products",
            |mut region| {
                region.assign_fixed(config.mac.chain, 0, Fr::zero());
                for col in config.mac.acc.iter().chain(&config.mac.x) {
                    FpCell::assign(&mut region, *col, 0, Value::known(Fr::zero()));
                }
                let mut outs: Vec<FpCell> = Vec::new();
                for (i, (a, b)) in self.pairs.iter().enumerate() {
                    let row = 1 + 2 * i;
                    let p = match self.tamper_product {
                        Some((t, v)) if t == i => v,
                        _ => a * b,
                    };
                    let (factors, _) = config.product.assign_row(
                        &mut region,
                        &config.mac,
                        row,
                        Some((*a, *b)),
                        Some(p),
                    )?;
                    if let Some((t, j)) = self.copy_factor {
                        if t == i {
                            region.constrain_equal(factors[0].cell(), outs[j].cell());
                        }
                    }
                    let out = match self.tamper_out {
                        Some((t, v)) if t == i => v,
                        _ => p,
                    };
                    let cell = config.link.assign_pass(
                        &mut region,
                        row + 1,
                        0,
                        0,
                        Value::known(fp(out)),
                    )?;
                    outs.push(cell);
                }
                Ok(())
            },
        )
    }
}

fn honest() -> ProductCircuit {
    ProductCircuit {
        pairs: vec![(3, -7), (-12, -12), (0, 99), (21, 4)],
        tamper_product: None,
        tamper_out: None,
        copy_factor: None,
    }
}

fn run(c: &ProductCircuit) -> Result<(), Vec<VerifyFailure>> {
    MockProver::run(6, c, vec![]).unwrap().verify()
}

/// Whether `errs` holds a failure of gate `gate` at row `row` (halo2-axiom's MockProver reports it
/// as outside any region, or at the same offset in the region that starts at row 0).
fn fails_at(errs: &[VerifyFailure], gate: &str, row: usize) -> bool {
    errs.iter().any(|e| match e {
        VerifyFailure::ConstraintNotSatisfied {
            constraint,
            location,
            ..
        } => {
            let at = match location {
                FailureLocation::InRegion { offset, .. } => *offset,
                FailureLocation::OutsideRegion { row } => *row,
            };
            at == row && format!("{constraint}").contains(gate)
        }
        _ => false,
    })
}

#[test]
fn product_rows_accept_honest_products() {
    run(&honest()).unwrap();
    // A factor copied from an earlier product's output (x * x + ... chains) is accepted when equal.
    let mut c = honest();
    c.pairs[3] = (-21, 4);
    c.copy_factor = Some((3, 0));
    run(&c).unwrap();
}

#[test]
fn product_rows_reject_a_wrong_product_at_its_row() {
    for (i, v) in [(0, -20), (1, 145), (2, 1), (3, -84)] {
        let mut c = honest();
        c.tamper_product = Some((i, v));
        let errs = run(&c).unwrap_err();
        assert!(
            fails_at(&errs, "product row", 1 + 2 * i),
            "pair {i}: {errs:?}"
        );
    }
}

#[test]
fn link_rows_reject_a_product_moved_out_wrongly() {
    let mut c = honest();
    c.tamper_out = Some((1, 143));
    let errs = run(&c).unwrap_err();
    assert!(fails_at(&errs, "link", 4), "{errs:?}");
}

#[test]
fn product_rows_reject_a_factor_that_is_not_the_copied_value() {
    let mut c = honest();
    c.copy_factor = Some((3, 0)); // pair 3's first factor is 21, pair 0's output is -21
    let errs = run(&c).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| matches!(e, VerifyFailure::Permutation { .. })),
        "{errs:?}"
    );
}
