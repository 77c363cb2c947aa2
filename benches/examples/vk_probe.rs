//! Probe: where rebuilding the verifying key of a compiled model spends its time.
//! `cargo run --release -p zkinfer-benches --example vk_probe -- MODEL.zkm`
use std::time::Instant;

use halo2_proofs::{pasta::EqAffine, plonk::keygen_vk};

use circuits::{
    lower::lower, plan::plan_with, setup::params_cache, with_shape, InferenceCircuit, ModelFile,
};

fn main() {
    let path = std::env::args().nth(1).expect("MODEL.zkm");
    let t = Instant::now();
    let m = ModelFile::read(std::path::Path::new(&path)).unwrap();
    println!("read + validate: {:.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let stages = lower(&m.graph, m.shape.width);
    println!(
        "lower: {:.3} s ({} blocks)",
        t.elapsed().as_secs_f64(),
        stages.iter().map(|s| s.blocks.len()).sum::<usize>()
    );
    let t = Instant::now();
    plan_with(&m.graph, m.shape.inputs_per_row, m.shape.width).unwrap();
    println!("plan: {:.3} s", t.elapsed().as_secs_f64());
    let (params, _) = params_cache::load_or_create(m.k, |_, _| {}).unwrap();
    let circuit = InferenceCircuit::new(&m.graph, None);
    for threads in [2, 1] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let t = Instant::now();
        pool.install(|| {
            with_shape(m.shape, || keygen_vk::<EqAffine, _>(&params, &circuit)).unwrap()
        });
        println!(
            "keygen_vk on {threads} thread(s): {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
}
