//! MockProver and real-proof tests of the Poseidon chip, honest and tampered.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner},
    dev::{FailureLocation, MockProver, VerifyFailure},
    halo2curves::bn256::{Bn256, G1Affine},
    plonk::{
        create_proof, keygen_pk, keygen_vk, verify_proof, Circuit, Instance, ProvingKey,
        VerifyingKey,
    },
    poly::{
        commitment::ParamsProver,
        kzg::{
            commitment::{KZGCommitmentScheme, ParamsKZG},
            multiopen::{ProverSHPLONK, VerifierSHPLONK},
            strategy::SingleStrategy,
        },
    },
    transcript::{
        Blake2bRead, Blake2bWrite, Challenge255, TranscriptReadBuffer, TranscriptWriterBuffer,
    },
};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

use super::*;
use crate::disclosure::poseidon::{hash2, permute};

const K: u32 = 8;
const FULL: &str = "poseidon full round";
const PARTIAL: &str = "poseidon partial round";
const CAPACITY: &str = "poseidon capacity";

/// One chain: a prefix, an optional salt (a private element hashed first), the elements.
#[derive(Clone, Debug)]
struct TestChain {
    prefix: Fr,
    salt: Option<Value<Fr>>,
    elements: Vec<Value<Fr>>,
}

impl TestChain {
    fn new(prefix: u64, elements: &[u64]) -> Self {
        TestChain {
            prefix: Fr::from(prefix),
            salt: None,
            elements: elements
                .iter()
                .map(|&e| Value::known(Fr::from(e)))
                .collect(),
        }
    }

    fn salted(mut self, salt: u64) -> Self {
        self.salt = Some(Value::known(Fr::from(salt)));
        self
    }

    /// The chain's hash, computed natively.
    fn native(&self) -> Fr {
        let mut h = self.prefix;
        let values = self.salt.iter().chain(&self.elements);
        for v in values {
            let mut e = Fr::ZERO;
            v.map(|v| e = v);
            h = hash2(h, e);
        }
        h
    }
}

/// Chains hashed in one region on `CHIPS` chips, each output constrained to the instance row of
/// its index; the elements sit in an equality-enabled column of the test's own.
#[derive(Clone, Debug)]
struct ChainCircuit<const CHIPS: usize> {
    chains: Vec<TestChain>,
    tamper: Option<Tamper>,
    /// Reports `HashRows::used()` after synthesis.
    used: Arc<AtomicUsize>,
}

impl<const CHIPS: usize> ChainCircuit<CHIPS> {
    fn new(chains: Vec<TestChain>) -> Self {
        ChainCircuit {
            chains,
            tamper: None,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn tampered(mut self, hash: usize, target: Target) -> Self {
        self.tamper = Some(Tamper { hash, target });
        self
    }

    fn instance(&self) -> Vec<Fr> {
        self.chains.iter().map(TestChain::native).collect()
    }
}

#[derive(Clone, Debug)]
struct TestConfig {
    hash: HashConfig,
    input: Column<Advice>,
    instance: Column<Instance>,
}

impl<const CHIPS: usize> Circuit<Fr> for ChainCircuit<CHIPS> {
    type Config = TestConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        let chains = self
            .chains
            .iter()
            .map(|c| TestChain {
                prefix: c.prefix,
                salt: c.salt.map(|_| Value::unknown()),
                elements: vec![Value::unknown(); c.elements.len()],
            })
            .collect();
        ChainCircuit {
            chains,
            tamper: None,
            used: self.used.clone(),
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> TestConfig {
        let hash = HashConfig::configure(meta, CHIPS);
        let input = meta.advice_column();
        meta.enable_equality(input);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        TestConfig {
            hash,
            input,
            instance,
        }
    }

    fn synthesize(&self, config: TestConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let mut hash = config.hash.clone();
        hash.tamper = self.tamper;
        let outputs = layouter.assign_region(
            || "hashes",
            |mut region| {
                let mut rows = HashRows::new(CHIPS);
                let mut input_row = 0;
                let mut outputs = Vec::new();
                for chain in &self.chains {
                    let mut cells = Vec::new();
                    if let Some(salt) = chain.salt {
                        cells.push(hash.assign_private(&mut region, &mut rows, salt));
                    }
                    for &e in &chain.elements {
                        cells.push(FpCell::assign(&mut region, config.input, input_row, e));
                        input_row += 1;
                    }
                    outputs.push(hash.chain(&mut region, &mut rows, chain.prefix, &cells)?);
                }
                self.used.store(rows.used(), Ordering::SeqCst);
                Ok(outputs)
            },
        )?;
        for (i, out) in outputs.iter().enumerate() {
            layouter.constrain_instance(out.cell(), config.instance, i);
        }
        Ok(())
    }
}

fn failures<const CHIPS: usize>(
    circuit: &ChainCircuit<CHIPS>,
    instance: Vec<Fr>,
) -> Vec<VerifyFailure> {
    let prover = MockProver::run(K, circuit, vec![instance]).expect("synthesis");
    prover.verify().err().unwrap_or_default()
}

/// The absolute row of a failure. Regions start at row 0 in halo2-axiom, and the test region's
/// first fixed cell (which sets MockProver's region start) is at row 0 when it starts with a hash.
fn row_of(location: &FailureLocation) -> usize {
    match location {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    }
}

/// `(gate, row)` of every failed constraint, sorted; panics on any other kind of failure.
fn gate_failures(failures: &[VerifyFailure]) -> Vec<(&'static str, usize)> {
    let mut out: Vec<_> = failures
        .iter()
        .map(|f| match f {
            VerifyFailure::ConstraintNotSatisfied {
                constraint,
                location,
                ..
            } => {
                let text = constraint.to_string();
                let gate = [FULL, PARTIAL, CAPACITY]
                    .into_iter()
                    .find(|g| text.contains(&format!("('{g}')")))
                    .unwrap_or_else(|| panic!("unexpected gate: {text}"));
                (gate, row_of(location))
            }
            other => panic!("unexpected failure: {other:?}"),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn rows_per_hash_and_rows_for() {
    assert_eq!(ROWS_PER_HASH, 66);
    assert_eq!(HashConfig::rows_for(0, 1), 0);
    assert_eq!(HashConfig::rows_for(3, 1), 198);
    assert_eq!(HashConfig::rows_for(3, 2), 132);
    assert_eq!(HashConfig::rows_for(4, 2), 132);
    assert_eq!(HashConfig::rows_for(5, 0), 330);
    assert_eq!(HashConfig::rows_with_singles(3, 1, 2), 133);
}

#[test]
fn hash_rows_alternate_and_respect_bound() {
    let mut rows = HashRows::new(2);
    assert_eq!(rows.take(1), (0, 0));
    assert_eq!(rows.take(ROWS_PER_HASH), (1, 0));
    assert_eq!(rows.take(ROWS_PER_HASH), (0, 1));
    assert_eq!(rows.take(ROWS_PER_HASH), (1, 66));
    assert_eq!(rows.used(), 132);
    // Any order of hashes and single rows stays within the bound.
    for chips in 1..4 {
        for pattern in 0u32..256 {
            let mut rows = HashRows::new(chips);
            let (mut hashes, mut singles) = (0, 0);
            for bit in 0..8 {
                if pattern >> bit & 1 == 1 {
                    rows.take(ROWS_PER_HASH);
                    hashes += 1;
                } else {
                    rows.take(1);
                    singles += 1;
                }
            }
            assert!(rows.used() <= HashConfig::rows_with_singles(hashes, singles, chips));
        }
    }
}

#[test]
fn gate_degrees_at_most_4() {
    let mut meta = ConstraintSystem::<Fr>::default();
    HashConfig::configure(&mut meta, 2);
    let degrees: Vec<(String, usize)> = meta
        .gates()
        .iter()
        .map(|g| {
            let d = g.polynomials().iter().map(|p| p.degree()).max().unwrap();
            (g.name().to_string(), d)
        })
        .collect();
    assert_eq!(degrees.len(), 6);
    for (name, d) in &degrees {
        let expected = if name == CAPACITY { 2 } else { 4 };
        assert_eq!(*d, expected, "{name}");
    }
    assert!(meta.degree() <= 5, "cs degree {}", meta.degree());
}

#[test]
fn chain_of_three_one_chip() {
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20, 30])]);
    let instance = circuit.instance();
    let prefix = Fr::from(5);
    let expected = hash2(
        hash2(hash2(prefix, Fr::from(10)), Fr::from(20)),
        Fr::from(30),
    );
    assert_eq!(instance, vec![expected]);
    assert_eq!(failures(&circuit, instance), vec![]);
    assert_eq!(
        circuit.used.load(Ordering::SeqCst),
        HashConfig::rows_for(3, 1)
    );
}

#[test]
fn chain_of_three_two_chips() {
    let circuit = ChainCircuit::<2>::new(vec![TestChain::new(5, &[10, 20, 30])]);
    assert_eq!(failures(&circuit, circuit.instance()), vec![]);
    assert_eq!(
        circuit.used.load(Ordering::SeqCst),
        HashConfig::rows_for(3, 2)
    );
}

#[test]
fn empty_chain_is_prefix() {
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(77, &[])]);
    assert_eq!(circuit.instance(), vec![Fr::from(77)]);
    assert_eq!(failures(&circuit, circuit.instance()), vec![]);
    let bad = failures(&circuit, vec![Fr::from(78)]);
    assert!(!bad.is_empty());
    assert!(bad
        .iter()
        .all(|f| matches!(f, VerifyFailure::Permutation { .. })));
}

#[test]
fn salted_and_several_chains_two_chips() {
    let circuit = ChainCircuit::<2>::new(vec![
        TestChain::new(1, &[2, 3]).salted(99),
        TestChain::new(4, &[]),
        TestChain::new(6, &[7, 8, 9]),
    ]);
    assert_eq!(failures(&circuit, circuit.instance()), vec![]);
    // 3 + 3 hashes, a salt and an empty chain's prefix.
    let used = circuit.used.load(Ordering::SeqCst);
    assert!(used <= HashConfig::rows_with_singles(6, 2, 2), "{used}");
    assert!(used >= HashConfig::rows_for(6, 2));
}

#[test]
fn wrong_instance_fails() {
    for chips in [1, 2] {
        let chain = TestChain::new(5, &[10, 20, 30]);
        let mut instance = vec![chain.native()];
        instance[0] += Fr::ONE;
        let bad = if chips == 1 {
            failures(&ChainCircuit::<1>::new(vec![chain]), instance)
        } else {
            failures(&ChainCircuit::<2>::new(vec![chain]), instance)
        };
        assert!(!bad.is_empty());
        assert!(bad
            .iter()
            .all(|f| matches!(f, VerifyFailure::Permutation { .. })));
    }
}

#[test]
fn changed_state_in_partial_round_fails_two_rounds() {
    // Hash 1 (rows 66..132 on one chip): the state after round 9, at row 66 + 10, is changed.
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20, 30])]).tampered(
        1,
        Target::State {
            row: 10,
            element: 1,
        },
    );
    let f = failures(&circuit, circuit.instance());
    assert_eq!(gate_failures(&f), vec![(PARTIAL, 75), (PARTIAL, 76)]);
}

#[test]
fn changed_state_in_full_round_fails_two_rounds() {
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20, 30])])
        .tampered(0, Target::State { row: 2, element: 2 });
    let f = failures(&circuit, circuit.instance());
    assert_eq!(gate_failures(&f), vec![(FULL, 1), (FULL, 2)]);
    // The round reading the changed cell fails its square and its three mixes.
    let at_2 = f
        .iter()
        .filter(|x| matches!(x, VerifyFailure::ConstraintNotSatisfied { location, .. } if row_of(location) == 2))
        .count();
    assert_eq!(at_2, 4);
}

#[test]
fn changed_output_fails_last_round() {
    // The output cell (row 65) of hash 0: the next hash copies the changed value consistently,
    // so only the last round's gate catches it (and the final hash changes, so it is not
    // checked against an instance here: the instance is computed from the changed value).
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20])]).tampered(
        0,
        Target::State {
            row: 65,
            element: 0,
        },
    );
    let h1 = hash2(Fr::from(5), Fr::from(10)) + Fr::ONE;
    let f = failures(&circuit, vec![hash2(h1, Fr::from(20))]);
    assert_eq!(gate_failures(&f), vec![(FULL, 64)]);
}

#[test]
fn changed_square_fails_its_round() {
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20, 30])]).tampered(
        2,
        Target::Square {
            row: 62,
            element: 1,
        },
    );
    let f = failures(&circuit, circuit.instance());
    assert_eq!(gate_failures(&f), vec![(FULL, 132 + 62)]);

    let circuit = ChainCircuit::<2>::new(vec![TestChain::new(5, &[10, 20, 30])]).tampered(
        1,
        Target::Square {
            row: 30,
            element: 0,
        },
    );
    let f = failures(&circuit, circuit.instance());
    // Hash 1 sits on the second chip, from row 0.
    assert_eq!(gate_failures(&f), vec![(PARTIAL, 30)]);
}

#[test]
fn nonzero_capacity_is_rejected() {
    // The first hash starts from [1, prefix, e]; the rounds and the instance are consistent with
    // it, so only the capacity gate fails.
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20])])
        .tampered(0, Target::State { row: 0, element: 0 });
    let h1 = permute([Fr::ONE, Fr::from(5), Fr::from(10)])[0];
    let f = failures(&circuit, vec![hash2(h1, Fr::from(20))]);
    assert_eq!(gate_failures(&f), vec![(CAPACITY, 0)]);

    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20])])
        .tampered(1, Target::State { row: 0, element: 0 });
    let h1 = hash2(Fr::from(5), Fr::from(10));
    let f = failures(&circuit, vec![permute([Fr::ONE, h1, Fr::from(20)])[0]]);
    assert_eq!(gate_failures(&f), vec![(CAPACITY, 66)]);
}

#[test]
fn left_input_not_equal_to_prefix_fails_permutation() {
    // Hash 0's left input is prefix + 1 (the rounds and the instance follow it): only the copy
    // of the constant fails.
    let circuit = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20])])
        .tampered(0, Target::State { row: 0, element: 1 });
    let h1 = hash2(Fr::from(6), Fr::from(10));
    let f = failures(&circuit, vec![hash2(h1, Fr::from(20))]);
    assert!(!f.is_empty());
    assert!(f
        .iter()
        .all(|x| matches!(x, VerifyFailure::Permutation { .. })));
}

#[test]
fn input_not_equal_to_element_fails_permutation() {
    // Hash 1's right input is e_1 + 1; the rounds and the instance follow it, so only the copy
    // of e_1 fails.
    let circuit =
        ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20])]).tampered(1, Target::Input);
    let h1 = hash2(Fr::from(5), Fr::from(10));
    let f = failures(&circuit, vec![hash2(h1, Fr::from(21))]);
    assert!(!f.is_empty());
    assert!(f
        .iter()
        .all(|x| matches!(x, VerifyFailure::Permutation { .. })));
    assert!(f.iter().any(|x| matches!(
        x,
        VerifyFailure::Permutation { location, .. } if row_of(location) == 66
    )));
    // The same circuit untampered, with that instance, fails on the instance copy only.
    let honest = ChainCircuit::<1>::new(vec![TestChain::new(5, &[10, 20])]);
    let f = failures(&honest, vec![hash2(h1, Fr::from(21))]);
    assert!(f
        .iter()
        .all(|x| matches!(x, VerifyFailure::Permutation { .. })));
}

type Scheme = KZGCommitmentScheme<Bn256>;

fn prove<const CHIPS: usize>(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: ChainCircuit<CHIPS>,
    instance: &[Fr],
) -> Vec<u8> {
    let mut transcript = Blake2bWrite::<Vec<u8>, G1Affine, Challenge255<G1Affine>>::init(vec![]);
    create_proof::<
        Scheme,
        ProverSHPLONK<'_, Bn256>,
        Challenge255<G1Affine>,
        _,
        Blake2bWrite<_, _, _>,
        _,
    >(
        params,
        pk,
        &[circuit],
        &[&[instance]],
        ChaCha20Rng::seed_from_u64(2),
        &mut transcript,
    )
    .expect("create_proof");
    transcript.finalize()
}

fn verify(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    proof: &[u8],
    instance: &[Fr],
) -> Result<(), Error> {
    let vp: &ParamsKZG<Bn256> = params.verifier_params();
    let mut transcript = Blake2bRead::<_, G1Affine, Challenge255<G1Affine>>::init(proof);
    verify_proof::<
        Scheme,
        VerifierSHPLONK<'_, Bn256>,
        Challenge255<G1Affine>,
        Blake2bRead<_, _, _>,
        SingleStrategy<'_, Bn256>,
    >(
        vp,
        vk,
        SingleStrategy::new(vp),
        &[&[instance]],
        &mut transcript,
    )
}

#[test]
fn real_proof_kzg_shplonk() {
    let circuit = ChainCircuit::<2>::new(vec![
        TestChain::new(5, &[10, 20, 30]).salted(1234),
        TestChain::new(8, &[]),
    ]);
    let instance = circuit.instance();
    let params = ParamsKZG::<Bn256>::setup(K, ChaCha20Rng::seed_from_u64(1));
    let vk = keygen_vk(&params, &circuit.without_witnesses()).expect("keygen_vk");
    let pk = keygen_pk(&params, vk.clone(), &circuit.without_witnesses()).expect("keygen_pk");
    assert!(vk.cs().degree() <= 5);
    let proof = prove(&params, &pk, circuit, &instance);
    verify(&params, &vk, &proof, &instance).expect("a valid proof verifies");
    let mut wrong = instance.clone();
    wrong[0] += Fr::ONE;
    assert!(verify(&params, &vk, &proof, &wrong).is_err());
}
