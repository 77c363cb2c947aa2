//! The digests `circuits::setup::ipa::PINNED` holds: `ParamsIPA::<G1Affine>::new(k)`'s file, per k.
//! `cargo run --release -p zkinfer-benches --example ipa_pins -- 4 16`
use halo2_proofs::poly::commitment::ParamsProver;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (lo, hi) = (args[0], args[1]);
    for k in lo..=hi {
        let params = circuits::setup::ipa::Params::new(k);
        let bytes = circuits::setup::ipa::params_bytes(&params);
        println!("    ({k}, \"{}\"),", circuits::setup::ipa::digest(&bytes));
    }
}
