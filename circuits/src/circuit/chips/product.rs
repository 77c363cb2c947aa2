//! Product rows: the product of two activations (Mul of two tensors, `x * x + x`, gating).
//!
//! A product row holds its factors in the equality-enabled input columns `x_0` and `x_1` (they arrive
//! by copy) and their product in the accumulator `a_0`, which a link row then moves out by rotation
//! like any block's sum (see [`super::link`]):
//!
//! ```text
//! a_0 = x_0 * x_1
//! ```
//!
//! Every other input and accumulator cell of the row is assigned zero, so the next block's first row
//! (which reads `a_j` one row up, times a zero `chain`) sees assigned cells.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::{Advice, Column, ConstraintSystem, Error, Selector},
    poly::Rotation,
};

use super::mac::MacConfig;
use super::FpCell;
use crate::field::fp;

/// The column and gate of product rows (over the multiply-accumulate rows' columns).
#[derive(Clone, Debug)]
pub struct ProductConfig {
    /// Enables the product gate.
    pub selector: Selector,
    /// The factors: the input columns `x_0` and `x_1`.
    pub factors: [Column<Advice>; 2],
    /// The product: the accumulator `a_0`.
    pub product: Column<Advice>,
}

impl ProductConfig {
    /// Create the product gate on `mac`'s first two input columns and first accumulator (needs
    /// `P >= 2`).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, mac: &MacConfig) -> Self {
        assert!(mac.x.len() >= 2, "product rows need two input columns");
        let selector = meta.selector();
        let factors = [mac.x[0], mac.x[1]];
        let product = mac.acc[0];
        meta.create_gate("product row", |m| {
            let s = m.query_selector(selector);
            let a = m.query_advice(factors[0], Rotation::cur());
            let b = m.query_advice(factors[1], Rotation::cur());
            let p = m.query_advice(product, Rotation::cur());
            vec![s * (p - a * b)]
        });
        ProductConfig {
            selector,
            factors,
            product,
        }
    }

    /// Assign a product row at `row` with factors `a` and `b` (values when known); returns the two
    /// factor cells and the product's value.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        mac: &MacConfig,
        row: usize,
        factors: Option<(i64, i64)>,
    ) -> Result<(Vec<FpCell>, Option<i64>), Error> {
        self.assign_row(region, mac, row, factors, factors.map(|(a, b)| a * b))
    }

    /// A product row as given (no arithmetic): the building block, also used by negative tests.
    pub fn assign_row(
        &self,
        region: &mut Region<'_, Fr>,
        mac: &MacConfig,
        row: usize,
        factors: Option<(i64, i64)>,
        product: Option<i64>,
    ) -> Result<(Vec<FpCell>, Option<i64>), Error> {
        self.selector.enable(region, row)?;
        let known = |v: Option<i64>| v.map_or(Value::unknown(), |v| Value::known(fp(v)));
        let zero = Value::known(Fr::zero());
        let cells = vec![
            FpCell::assign(region, self.factors[0], row, known(factors.map(|f| f.0))),
            FpCell::assign(region, self.factors[1], row, known(factors.map(|f| f.1))),
        ];
        for col in &mac.x[2..] {
            FpCell::assign(region, *col, row, zero);
        }
        FpCell::assign(region, self.product, row, known(product));
        for col in &mac.acc[1..] {
            FpCell::assign(region, *col, row, zero);
        }
        Ok((cells, product))
    }
}
