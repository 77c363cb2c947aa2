//! Print the digest of `Params::<EqAffine>::new(k)`'s file for each k in a range, as
//! `circuits::setup::params_cache::PINNED` holds them, and cache the files made on the way.
//!
//! `cargo run -p zkinfer-circuits --example params_pins -- 4 20` (measured on 2 busy cores: k = 17
//! 292 s, k = 19 518 s, k = 20 1604 s; each k about twice the one before).

use std::io::Write;

use circuits::setup::params_cache::{digest, params_path};
use halo2_proofs::{pasta::EqAffine, poly::commitment::Params};

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("k"))
        .collect();
    let (lo, hi) = match args[..] {
        [lo, hi] => (lo, hi),
        [k] => (k, k),
        _ => panic!("usage: params_pins K_MIN [K_MAX]"),
    };
    for k in lo..=hi {
        let t = std::time::Instant::now();
        let mut bytes = Vec::new();
        Params::<EqAffine>::new(k).write(&mut bytes).unwrap();
        println!("    ({k}, \"{}\"),", digest(&bytes));
        eprintln!("k = {k}: {:.1} s", t.elapsed().as_secs_f64());
        std::io::stdout().flush().unwrap();
        if let Ok(path) = params_path(k) {
            if std::fs::create_dir_all(path.parent().unwrap()).is_ok() {
                let _ = std::fs::write(path, &bytes);
            }
        }
    }
}
