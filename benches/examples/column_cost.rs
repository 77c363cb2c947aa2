//! Probe: what one column costs the prover per proof at k, by kind: a fixed column (its coset
//! evaluations, recomputed by halo2-axiom's quotient for every part of the extended domain) against
//! an advice column (inverse FFT, the same coset evaluations, and its commitment).
//!
//! ```text
//! cargo run --release -p zkinfer-benches --example column_cost -- K [PARTS]
//! ```
use circuits::field::Fr;
use halo2_proofs::arithmetic::Field;
use halo2_proofs::poly::{
    commitment::{Blind, Params},
    EvaluationDomain,
};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let k: u32 = args.next().map_or(15, |s| s.parse().expect("K"));
    let parts: u32 = args.next().map_or(4, |s| s.parse().expect("PARTS"));
    let params = circuits::setup::srs::dev_params(k);
    // Degree 5: an extended domain of 4n, as with the model circuit's lookups.
    let domain = EvaluationDomain::<Fr>::new(5, k);
    let mut values = domain.empty_lagrange();
    let mut x = Fr::from(7u64);
    for v in values.iter_mut() {
        x = x.square() + Fr::from(3u64);
        *v = x;
    }
    let runs = 3;
    let time = |label: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..runs {
            f();
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / runs as f64;
        println!("k={k} {label}: {ms:.1} ms");
        ms
    };
    let coeffs = domain.lagrange_to_coeff(values.clone());
    let ifft = time("inverse FFT (n)", &mut || {
        std::hint::black_box(domain.lagrange_to_coeff(values.clone()));
    });
    let part = time("coset FFT of one part (n)", &mut || {
        let omega = domain.get_extended_omega();
        std::hint::black_box(domain.coeff_to_extended_part(coeffs.clone(), omega));
    });
    let msm = time("commitment (MSM, n)", &mut || {
        std::hint::black_box(params.commit_lagrange(&values, Blind(Fr::ONE)));
    });
    println!(
        "k={k}: fixed column {:.0} ms ({parts} parts), advice column {:.0} ms (+ its share of the evaluation)",
        parts as f64 * part,
        ifft + parts as f64 * part + msm
    );
}
