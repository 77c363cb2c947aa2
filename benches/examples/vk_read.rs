//! Probe: what reading a verifying key costs, by part (evaluation domain, whole read), per k.
//! `cargo run -p zkinfer-benches --example vk_read -- [MODEL.zkm]`
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    for k in [7u32, 15, 18, 20] {
        let t = Instant::now();
        let d = halo2_proofs::poly::EvaluationDomain::<circuits::field::Fr>::new(5, k);
        std::hint::black_box(&d);
        println!(
            "k = {k}: evaluation domain {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    if let Some(path) = std::env::args().nth(1) {
        let model = circuits::ModelFile::read(std::path::Path::new(&path))?;
        let t = Instant::now();
        let vk = model.verifying_key()?;
        println!(
            "{path}: k = {}, verifying key read in {:.1} ms",
            model.k,
            t.elapsed().as_secs_f64() * 1e3
        );
        std::hint::black_box(vk);
        let t = Instant::now();
        let m = circuits::ModelFile::read(std::path::Path::new(&path))?;
        println!(
            "model file read and checked in {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
        std::hint::black_box(m);
    }
    Ok(())
}
