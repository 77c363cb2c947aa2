//! Probe: where a verify's time goes in one process: reading the files, parsing and checking the
//! model (its digest included), parsing the proof bundle, and the verification itself.
//!
//! ```text
//! cargo run --release -p zkinfer-benches --example verify_parts -- MODEL.zkm PROOF.zkp
//! ```
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, zkm, zkp] = args.as_slice() else {
        panic!("usage: verify_parts MODEL.zkm PROOF.zkp");
    };
    let t = Instant::now();
    let (model_bytes, proof_bytes) = (std::fs::read(zkm).unwrap(), std::fs::read(zkp).unwrap());
    let read = t.elapsed();
    let t = Instant::now();
    let model = circuits::ModelFile::from_bytes_to_verify(&model_bytes, zkm).unwrap();
    let parse_model = t.elapsed();
    let t = Instant::now();
    let bundle = verifier::bundle::ProofBundle::from_bytes(&proof_bytes, zkp).unwrap();
    let parse_bundle = t.elapsed();
    let t = Instant::now();
    let verdict = verifier::verify::verify_bundle_with(&bundle, &model, true).unwrap();
    let verify = t.elapsed();
    println!(
        "read {read:?}, model {parse_model:?}, bundle {parse_bundle:?}, verify {verify:?} \
         (valid: {})",
        verdict.valid
    );
}
