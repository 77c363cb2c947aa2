//! Probe: what a verify costs, by part, in one process (medians of 15 runs): halo2's evaluation
//! domain per k (what its verifying-key reader builds), then for a model and proof the model file
//! read, the bundle read, both verifying-key readers and the check.
//! `cargo run --release -p zkinfer-benches --example vk_read -- [MODEL.zkm [PROOF.zkp]]`
use std::path::Path;
use std::time::Instant;

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..15)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() -> anyhow::Result<()> {
    for k in [7u32, 15, 18, 20] {
        let ms = median_ms(|| {
            std::hint::black_box(
                halo2_proofs::poly::EvaluationDomain::<circuits::field::Fr>::new(5, k),
            );
        });
        println!("k = {k}: halo2's evaluation domain {ms:.1} ms");
    }
    let mut args = std::env::args().skip(1);
    let Some(model) = args.next() else {
        return Ok(());
    };
    let proof = args.next();
    let m = circuits::ModelFile::read(Path::new(&model))?;
    let v = verifier::verify::ModelVerifier::with_options(&m, true)?;
    let bytes = std::fs::read(&model)?;
    let mut parts: Vec<(&str, f64)> = vec![
        (
            "model file read and checked",
            median_ms(|| {
                std::hint::black_box(circuits::ModelFile::read(Path::new(&model)).unwrap());
            }),
        ),
        (
            "model file read to verify (no layout check)",
            median_ms(|| {
                std::hint::black_box(
                    circuits::ModelFile::read_to_verify(Path::new(&model)).unwrap(),
                );
            }),
        ),
        (
            "  of which JSON parse",
            median_ms(|| {
                std::hint::black_box(
                    serde_json::from_slice::<circuits::ModelFile>(&bytes).unwrap(),
                );
            }),
        ),
        (
            "  of which validation",
            median_ms(|| {
                m.validate().unwrap();
            }),
        ),
        (
            "  of which digest",
            median_ms(|| {
                std::hint::black_box(m.compute_digest());
            }),
        ),
        (
            "verifying key, halo2's reader",
            median_ms(|| {
                std::hint::black_box(m.verifying_key().unwrap());
            }),
        ),
        (
            "verifying key, verifier reader",
            median_ms(|| {
                std::hint::black_box(m.verifier_key().unwrap());
            }),
        ),
        (
            "verifier set up (SRS points, key)",
            median_ms(|| {
                std::hint::black_box(
                    verifier::verify::ModelVerifier::with_options(&m, true).unwrap(),
                );
            }),
        ),
    ];
    if let Some(proof) = proof {
        let b = verifier::bundle::ProofBundle::read(Path::new(&proof))?;
        parts.extend([
            (
                "proof bundle read",
                median_ms(|| {
                    std::hint::black_box(
                        verifier::bundle::ProofBundle::read(Path::new(&proof)).unwrap(),
                    );
                }),
            ),
            (
                "check (outputs, instance, proof)",
                median_ms(|| {
                    std::hint::black_box(v.verify(&b));
                }),
            ),
        ]);
    }
    println!("{model} (k = {}):", m.k);
    for (what, ms) in parts {
        println!("  {what}: {ms:.2} ms");
    }
    Ok(())
}
