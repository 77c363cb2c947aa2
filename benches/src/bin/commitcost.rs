//! commitcost: what committing one column costs, per k and kind of values (key generation commits
//! each fixed column: weights, small non-negative values; and each equality column: full-width
//! values), and what reading and checking the development SRS's file costs.
//!
//! ```text
//! cargo run --release -p zkinfer-benches --bin commitcost -- [k ...]     # default: 10 13 15
//! ```

use std::time::Instant;

use anyhow::Result;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::poly::{
    commitment::{Blind, Params as _},
    EvaluationDomain,
};

/// Milliseconds per call of `f`, over `runs` calls.
fn ms(runs: u32, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..runs {
        f();
    }
    t.elapsed().as_secs_f64() * 1e3 / runs as f64
}

const USAGE: &str = "commitcost: milliseconds per commitment of one 2^k column, by kind of values

usage: commitcost [K ...]    (default: 10 13 15)

example: cargo run --release -p zkinfer-benches --bin commitcost -- 14 16";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    zkinfer_benches::check_args(&args, &[], USAGE);
    let ks: Vec<u32> = args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let ks = if ks.is_empty() { vec![10, 13, 15] } else { ks };
    println!(
        "threads: {}; ms per commitment of one 2^k column (Params::commit_lagrange)",
        rayon::current_num_threads()
    );
    println!("k   SRS read+check   full-width   15-bit   9-bit   all zero");
    for k in ks {
        let srs = circuits::setup::srs::SrsRef::dev();
        circuits::setup::store::load(&srs, k)?; // made and cached once, outside the timing
        let t = Instant::now();
        let (params, _) = circuits::setup::store::load(&srs, k)?;
        let read = t.elapsed().as_secs_f64() * 1e3;
        let domain = EvaluationDomain::<Fr>::new(1, k);
        let column = |f: &dyn Fn(u64) -> Fr| {
            let mut poly = domain.empty_lagrange();
            for (i, v) in poly.iter_mut().enumerate() {
                *v = f(i as u64);
            }
            poly
        };
        // Full-width values, as in the permutation's columns; small ones, as stored weights.
        let full = column(&|i| Fr::from(i + 1).invert().unwrap());
        let w15 = column(&|i| Fr::from((i * 7919) % (1 << 15)));
        let w9 = column(&|i| Fr::from((i * 7919) % (1 << 9)));
        let zero = column(&|_| Fr::zero());
        let cost = |p| {
            ms(3, || {
                std::hint::black_box(params.commit_lagrange(p, Blind::default()));
            })
        };
        println!(
            "{k:<3} {read:>8.1} ms   {:>7.1}   {:>6.1}   {:>5.1}   {:>8.1}",
            cost(&full),
            cost(&w15),
            cost(&w9),
            cost(&zero)
        );
    }
    Ok(())
}
