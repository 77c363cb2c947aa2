//! Probe: cost of committing one Lagrange column at k by kind of scalar (informs the layout).
use circuits::field::Fr;
use halo2_proofs::poly::{
    commitment::{Blind, Params},
    EvaluationDomain,
};
use std::time::Instant;
fn main() {
    let k: u32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(9);
    let params = circuits::setup::srs::dev_params(k);
    let domain = EvaluationDomain::<Fr>::new(1, k);
    let n = 1usize << k;
    let mut seed = 12345u64;
    let mut rnd = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        seed >> 33
    };
    let kinds: Vec<(&str, Vec<Fr>)> = vec![
        (
            "full random",
            (0..n)
                .map(|_| {
                    let mut x = Fr::from(rnd());
                    for _ in 0..4 {
                        x = x * Fr::from(rnd()) + Fr::from(rnd());
                    }
                    x
                })
                .collect(),
        ),
        (
            "small positive <2^12",
            (0..n).map(|_| Fr::from(rnd() % 4096)).collect(),
        ),
        (
            "small signed |x|<2^12",
            (0..n)
                .map(|_| {
                    let v = rnd() % 4096;
                    if v % 2 == 0 {
                        Fr::from(v)
                    } else {
                        -Fr::from(v)
                    }
                })
                .collect(),
        ),
        ("0/1", (0..n).map(|_| Fr::from(rnd() % 2)).collect()),
        ("zeros", vec![Fr::zero(); n]),
    ];
    for (name, v) in kinds {
        let poly = domain.lagrange_from_vec(v);
        let reps = 40;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(params.commit_lagrange(&poly, Blind::default()));
        }
        println!(
            "k={k} {name:>24}: {:.3} ms",
            t.elapsed().as_secs_f64() * 1e3 / reps as f64
        );
    }
}
