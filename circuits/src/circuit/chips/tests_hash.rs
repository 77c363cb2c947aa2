//! MockProver tests of pack rows and the Poseidon chain, honest and tampered.

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    dev::MockProver,
    halo2curves::bn256::Fr,
    plonk::{Advice, Circuit, Column, ConstraintSystem, Error, Instance},
};

use super::pack::PackConfig;
use super::poseidon::{HashConfig, HashRows};
use super::rescale::{RescaleConfig, RescaleParams, RescaleWitness};
use super::table::RangeTable;
use super::FpCell;
use crate::disclosure::hashing::Packing;
use crate::field::fp;

const L: u32 = 6;

#[derive(Clone, Default)]
struct PackCircuit {
    values: Vec<i64>,
    /// Add this to the running sum of row `i`.
    tamper_z: Option<(usize, i64)>,
    /// Start a new chunk at row `i` (a wrong chain flag).
    restart_at: Option<usize>,
}

#[derive(Clone, Debug)]
struct PackTestConfig {
    rescale: RescaleConfig,
    pack: PackConfig,
    hash: HashConfig,
    table: RangeTable,
    instance: Column<Instance>,
}

impl Circuit<Fr> for PackCircuit {
    type Config = PackTestConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> PackTestConfig {
        let a: Vec<_> = (0..6).map(|_| meta.advice_column()).collect();
        let x1 = meta.advice_column();
        let f: Vec<_> = (0..5).map(|_| meta.fixed_column()).collect();
        meta.enable_equality(a[5]);
        meta.enable_equality(x1);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let table = RangeTable::configure(meta, L);
        let rescale = RescaleConfig::configure(
            meta,
            [a[0], a[1], a[2], a[3], a[4], a[5]],
            [f[0], f[1], f[2], f[3]],
            &table,
            None,
        );
        let pack = PackConfig::configure(meta, a[5], x1, f[4], L);
        let hash = HashConfig::configure(meta, 1);
        PackTestConfig {
            rescale,
            pack,
            hash,
            table,
            instance,
        }
    }
    fn synthesize(&self, c: PackTestConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        c.table.load(&mut layouter)?;
        let values = &self.values;
        let packed = layouter.assign_region(
            || "pack rows",
            |mut region| {
                let per = c.pack.packing.per_element();
                let base = Fr::from(1u64 << c.pack.packing.value_bits());
                let mut z = Fr::zero();
                let mut packed = vec![];
                FpCell::assign(&mut region, c.pack.z, 0, Value::known(Fr::zero()));
                for (i, v) in values.iter().enumerate() {
                    let row = i + 1;
                    let p = RescaleParams::identity(0);
                    let w = RescaleWitness::compute(*v, p, L);
                    c.rescale.assign_with(
                        &mut region,
                        row,
                        Value::known(*v),
                        p,
                        Value::known(w),
                    )?;
                    let first = i % per == 0 || self.restart_at == Some(i);
                    let u = fp(v + c.pack.packing.offset());
                    z = if first { u } else { z * base + u };
                    let mut zv = z;
                    if let Some((t, d)) = self.tamper_z {
                        if t == i {
                            zv += fp(d);
                        }
                    }
                    let cell = c.pack.assign(&mut region, row, first, Value::known(zv))?;
                    if i % per == per - 1 || i == values.len() - 1 {
                        packed.push(cell);
                    }
                }
                Ok(packed)
            },
        )?;
        let prefix = c.pack.packing.prefix(values.len());
        let h = layouter.assign_region(
            || "chain",
            |mut region| {
                let mut rows = HashRows::new(c.hash.chips());
                c.hash.chain(&mut region, &mut rows, prefix, &packed)
            },
        )?;
        layouter.constrain_instance(h.cell(), c.instance, 0);
        Ok(())
    }
}

fn values() -> Vec<i64> {
    // 25 values: two chunks of 19 and 6, both ends of the range included.
    (0..25)
        .map(|i| match i {
            0 => -(1 << (2 * L - 1)),
            1 => (1 << (2 * L)) - 1,
            _ => (i * 97 % 300) - 150,
        })
        .collect()
}

fn run(c: &PackCircuit, claimed: &[i64]) -> bool {
    let h = Packing::Packed { limb_bits: L }.hash(claimed).unwrap();
    let r = MockProver::run(9, c, vec![vec![h]]).unwrap().verify();
    if let Err(e) = &r {
        eprintln!("{:?}", &e[..e.len().min(3)]);
    }
    r.is_ok()
}

#[test]
fn pack_rows_and_chain_match_the_off_circuit_hash() {
    let c = PackCircuit {
        values: values(),
        ..Default::default()
    };
    assert!(run(&c, &values()));
}

#[test]
fn the_hash_of_another_tensor_is_rejected() {
    let c = PackCircuit {
        values: values(),
        ..Default::default()
    };
    let mut other = values();
    other[7] += 1;
    assert!(!run(&c, &other));
}

#[test]
fn a_wrong_running_sum_is_rejected() {
    for i in [0, 5, 18, 19, 24] {
        let c = PackCircuit {
            values: values(),
            tamper_z: Some((i, 1)),
            ..Default::default()
        };
        assert!(!run(&c, &values()), "tampered running sum at {i} accepted");
    }
}

#[test]
fn a_chunk_restarted_early_is_rejected() {
    let c = PackCircuit {
        values: values(),
        restart_at: Some(3),
        ..Default::default()
    };
    assert!(!run(&c, &values()));
}

#[test]
fn a_value_outside_the_range_is_rejected_even_when_it_packs_to_the_claimed_element() {
    // Moving 2^B from value 1 into value 0 (u_0 + 1, u_1 - 2^B) keeps the packed element, so only
    // the range check stops it.
    let vals = values();
    let bits = Packing::Packed { limb_bits: L }.value_bits();
    let mut forged = vals.clone();
    forged[2] += 1;
    forged[3] -= 1 << bits;
    let e = |v: &[i64]| {
        let p = Packing::Packed { limb_bits: L };
        let base = Fr::from(1u64 << bits);
        v[..19]
            .iter()
            .fold(Fr::zero(), |z, x| z * base + fp(x + p.offset()))
    };
    assert_eq!(
        e(&vals),
        e(&forged),
        "the forgery packs to the same element"
    );
    let c = PackCircuit {
        values: forged,
        ..Default::default()
    };
    assert!(!run(&c, &vals));
}

// ---------- rows of a hash chain, one or two chips ----------

/// A chain of `n` hashes on `CHIPS` Poseidon chips.
#[derive(Clone)]
struct ChainCircuit<const CHIPS: usize> {
    n: usize,
}

impl<const CHIPS: usize> Circuit<Fr> for ChainCircuit<CHIPS> {
    type Config = (Column<Advice>, HashConfig, Column<Instance>);
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> Self::Config {
        let col = meta.advice_column();
        meta.enable_equality(col);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        (col, HashConfig::configure(meta, CHIPS), instance)
    }
    fn synthesize(&self, c: Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let (col, hash, instance) = c;
        let cells = layouter.assign_region(
            || "elements",
            |mut region| {
                Ok((0..self.n)
                    .map(|i| FpCell::assign(&mut region, col, i, Value::known(fp(i as i64))))
                    .collect::<Vec<_>>())
            },
        )?;
        let h = layouter.assign_region(
            || "chain",
            |mut region| {
                let mut rows = HashRows::new(hash.chips());
                hash.chain(&mut region, &mut rows, Fr::one(), &cells)
            },
        )?;
        layouter.constrain_instance(h.cell(), instance, 0);
        Ok(())
    }
}

fn chain_fits<const CHIPS: usize>(k: u32, n: usize) -> bool {
    let elements: Vec<Fr> = (0..n).map(|i| fp(i as i64)).collect();
    let h = crate::disclosure::hashing::chain(Fr::one(), &elements);
    // halo2-axiom's MockProver panics on a row past the usable ones.
    std::panic::catch_unwind(|| {
        match MockProver::run(k, &ChainCircuit::<CHIPS> { n }, vec![vec![h]]) {
            Ok(p) => p.verify().is_ok(),
            Err(_) => false,
        }
    })
    .unwrap_or(false)
}

/// Rows usable at k = 11 by the chain circuit (its blinding factors and the last row left out).
fn usable_rows_k11() -> usize {
    let mut cs = ConstraintSystem::<Fr>::default();
    ChainCircuit::<1>::configure(&mut cs);
    (1 << 11) - (cs.blinding_factors() + 1)
}

#[test]
fn hash_chain_rows_are_exact_for_one_chip_and_a_bound_for_two() {
    use crate::plan::hash_chain_rows;
    let usable = usable_rows_k11();
    // One chip: the longest chain the plan allows fits, one hash more does not.
    let n = (1..)
        .take_while(|n| hash_chain_rows(&[*n], 1) <= usable)
        .last()
        .unwrap();
    assert!(chain_fits::<1>(11, n), "{n} hashes");
    assert!(!chain_fits::<1>(11, n + 1), "{} hashes", n + 1);
    // Two chips: what the plan allows fits, and about twice as many hashes as on one chip.
    let m = (1..)
        .take_while(|m| hash_chain_rows(&[*m], 2) <= usable)
        .last()
        .unwrap();
    assert!(chain_fits::<2>(11, m), "{m} hashes on two chips");
    assert!(m >= 2 * n * 9 / 10, "{m} hashes on two chips, {n} on one");
}
