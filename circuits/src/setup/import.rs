//! Importing an SRS from a ceremony's file: a snarkjs `.ptau` (what the Perpetual Powers of Tau and
//! Hermez publish) or halo2's own KZG parameters (`k | g | g_lagrange | g2 | τ·g2`, raw). The powers
//! each k needs are a prefix of the file's; the Lagrange basis is computed once per k, and each k's
//! parameters are checked (see [`super::srs::check_params`]) and written to the cache directory, so
//! that provers load them without recomputing anything.

use std::path::PathBuf;

use halo2_proofs::{
    halo2curves::bn256::{G1Affine, G2Affine},
    poly::commitment::{Params as _, ParamsProver as _},
    SerdeCurveAffine, SerdeFormat,
};

use super::ptau::Ptau;
use super::srs::{self, g2_to_hex, Params, SrsError, SrsRef, KNOWN};
use super::store;
use crate::plan::{MAX_K, MIN_K};

/// What an import wrote.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The SRS, as models name it.
    pub srs: SrsRef,
    /// The k whose parameters were written.
    pub ks: Vec<u32>,
    /// Where.
    pub dir: PathBuf,
}

/// The powers and `τ·G2` read from a file.
struct Powers {
    g: Vec<G1Affine>,
    g2: G2Affine,
    tau_g2: G2Affine,
}

fn bad(why: impl Into<String>) -> SrsError {
    SrsError::BadRef(why.into())
}

/// A point from the raw encoding both snarkjs and halo2 use (coordinates little-endian, Montgomery).
fn raw_point<C: SerdeCurveAffine>(mut bytes: &[u8], what: &str) -> Result<C, SrsError> {
    C::read(&mut bytes, SerdeFormat::RawBytes)
        .map_err(|e| bad(format!("{what} is not a point of the curve ({e})")))
}

/// The first `2^k_top` powers of a snarkjs `.ptau` file, with its `G2` and `τ·G2`.
fn ptau_powers(bytes: &[u8], k_top: u32) -> Result<(Powers, u32), SrsError> {
    let ptau = Ptau::parse(bytes).map_err(|e| bad(format!("not a usable .ptau file: {e}")))?;
    let mut k = k_top;
    while k > 0 && (1usize << k) > ptau.g1_count() {
        k -= 1;
    }
    let raw = ptau
        .g1_powers(k)
        .map_err(|e| bad(format!("the .ptau file: {e}")))?;
    let g = raw
        .chunks(super::ptau::G1_BYTES)
        .enumerate()
        .map(|(i, c)| raw_point::<G1Affine>(c, &format!("tauG1[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let g2_at = |i| {
        let b = ptau
            .g2(i)
            .ok_or_else(|| bad("the .ptau file has fewer than two G2 powers"))?;
        raw_point::<G2Affine>(b, &format!("tauG2[{i}]"))
    };
    Ok((
        Powers {
            g,
            g2: g2_at(0)?,
            tau_g2: g2_at(1)?,
        },
        k,
    ))
}

/// The powers of halo2 KZG parameters (raw layout), cut to `2^k_top`.
fn halo2_powers(bytes: &[u8], k_top: u32) -> Result<(Powers, u32), SrsError> {
    let params =
        srs::params_from_bytes(bytes).map_err(|e| bad(format!("not halo2 KZG parameters: {e}")))?;
    let k = params.k().min(k_top);
    Ok((
        Powers {
            g: params.get_g()[..1 << k].to_vec(),
            g2: params.g2(),
            tau_g2: params.s_g2(),
        },
        k,
    ))
}

/// The name an imported SRS goes by: the known name of its `τ·G2`, else the one given.
fn name_for(tau_g2: &str, given: Option<&str>) -> Result<String, SrsError> {
    let known = KNOWN.iter().find(|(_, p)| *p == tau_g2).map(|(n, _)| *n);
    match (known, given) {
        (Some(k), Some(g)) if k != g => Err(bad(format!(
            "this file is the SRS '{k}' (its τ·G2 is that SRS's): import it as '{k}', not '{g}'"
        ))),
        (Some(k), _) => Ok(k.into()),
        (None, Some(g)) if KNOWN.iter().any(|(n, _)| *n == g) => Err(bad(format!(
            "this file is not the SRS '{g}' (its τ·G2 is another): give it a name of its own"
        ))),
        (None, Some(g)) if SrsRef::name_is_valid(g) => Ok(g.into()),
        (None, Some(g)) => Err(bad(format!(
            "'{}' is not an SRS name: use 1 to 32 letters, digits, '-' or '_'",
            g.escape_debug()
        ))),
        (None, None) => Err(bad(
            "this SRS is not one zkinfer knows: name it with --name (models compiled with it \
             carry its τ·G2, and their digest covers it)",
        )),
    }
}

/// Import an SRS file's bytes (`.ptau` or halo2 KZG parameters) for every k from the smallest the
/// planner uses up to `max_k` (at most what the file holds, and [`MAX_K`]); `on_k` is told before each
/// k is computed. The development SRS cannot be imported.
pub fn import_bytes(
    bytes: &[u8],
    name: Option<&str>,
    max_k: Option<u32>,
    mut on_k: impl FnMut(u32),
) -> Result<Imported, SrsError> {
    let k_top = max_k.unwrap_or(MAX_K).min(MAX_K);
    let (powers, k_top) = if bytes.starts_with(b"ptau") {
        ptau_powers(bytes, k_top)?
    } else {
        halo2_powers(bytes, k_top)?
    };
    if k_top < MIN_K {
        return Err(bad(format!(
            "the file holds 2^{k_top} powers; zkinfer needs at least 2^{MIN_K}"
        )));
    }
    let srs = SrsRef {
        name: name_for(&g2_to_hex(&powers.tau_g2), name)?,
        tau_g2: g2_to_hex(&powers.tau_g2),
    };
    if srs.is_dev() {
        return Err(bad(
            "the development SRS is made, not imported (zkinfer srs dev)",
        ));
    }
    let seed = srs.verifier_params(MIN_K)?;
    let dir = store::srs_dir(&srs)?;
    let io = |path: PathBuf| move |source| SrsError::Io { path, source };
    let mut ks = Vec::new();
    for k in MIN_K..=k_top {
        on_k(k);
        let g = powers.g[..1 << k].to_vec();
        let params: Params = seed.from_parts(k, g, None, powers.g2, powers.tau_g2);
        srs::check_params(&params, k, &powers.tau_g2).map_err(|why| SrsError::Mismatch {
            path: dir.clone(),
            name: srs.name.clone(),
            why,
        })?;
        let path = dir.join(format!("k{k}.params"));
        store::write_atomically(&path, &srs::params_bytes(&params)).map_err(io(path.clone()))?;
        ks.push(k);
    }
    let meta = dir.join("srs.json");
    let json = serde_json::to_vec_pretty(&srs).expect("an SRS reference serializes");
    store::write_atomically(&meta, &json).map_err(io(meta.clone()))?;
    Ok(Imported { srs, ks, dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ptau");
        std::fs::read(p.join(name)).unwrap()
    }

    #[test]
    fn ptau_powers_are_the_points_snarkjs_wrote_and_pass_the_check() {
        let (p, k) = ptau_powers(&fixture("pot6_final.ptau"), 20).unwrap();
        assert_eq!(k, 6);
        assert_eq!(p.g.len(), 64);
        assert_eq!(
            p.g[0],
            <G1Affine as group::prime::PrimeCurveAffine>::generator()
        );
        assert_eq!(
            p.g2,
            <G2Affine as group::prime::PrimeCurveAffine>::generator()
        );
        let seed = SrsRef::dev().verifier_params(4).unwrap();
        let params = seed.from_parts(5, p.g[..32].to_vec(), None, p.g2, p.tau_g2);
        srs::check_params(&params, 5, &p.tau_g2).unwrap();
        // The contributed (unprepared) file holds the same powers.
        let (q, _) = ptau_powers(&fixture("pot6_contributed.ptau"), 6).unwrap();
        assert_eq!(q.g, p.g);
        assert_eq!(q.tau_g2, p.tau_g2);
    }

    #[test]
    fn names_follow_the_point() {
        let hermez = KNOWN[1].1;
        assert_eq!(name_for(hermez, None).unwrap(), "hermez");
        assert!(name_for(hermez, Some("mine")).is_err());
        let other = g2_to_hex(&<G2Affine as group::prime::PrimeCurveAffine>::generator());
        assert!(name_for(&other, None).is_err());
        assert!(name_for(&other, Some("hermez")).is_err());
        assert!(name_for(&other, Some("bad name")).is_err());
        assert_eq!(
            name_for(&other, Some("my-ceremony")).unwrap(),
            "my-ceremony"
        );
    }
}
