//! Probe: what checking a loaded SRS costs at k (the prover checks it on every load): the combined
//! check (three multi-exponentiations) against the facts checked apart (four).
//!
//! ```text
//! cargo run --release -p zkinfer-benches --example srs_check -- K
//! ```
use std::time::Instant;
fn main() {
    let k: u32 = std::env::args()
        .nth(1)
        .map_or(15, |s| s.parse().expect("K"));
    let params = circuits::setup::srs::dev_params(k);
    let tau_g2 = circuits::setup::srs::SrsRef::dev().tau_g2().unwrap();
    for round in 0..2 {
        let t = Instant::now();
        circuits::setup::srs::check_params(&params, k, &tau_g2).unwrap();
        let combined = t.elapsed();
        let t = Instant::now();
        circuits::setup::srs::check_apart(&params, k, &tau_g2).unwrap();
        let apart = t.elapsed();
        println!("k={k} round {round}: combined {combined:?}, apart {apart:?}");
    }
}
