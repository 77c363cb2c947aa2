//! Structured reference strings (SRS) for KZG commitments over BN254: which one a model is proven
//! with ([`SrsRef`]), what a verifier needs of it (three points, no file), and the prover's files.
//!
//! A KZG SRS is the powers `τ^i·G1` (i < 2^k) and `τ·G2`. A verifier uses only `G1`, `G2` and `τ·G2`,
//! so an SRS is named by `τ·G2`: [`SrsRef`] carries it, the model file carries the `SrsRef`, and the
//! model's digest covers it. The verifier part of every SRS zkinfer knows by name is pinned in
//! [`KNOWN`]; a model naming one of them with another `τ·G2` is refused.
//!
//! The prover's files (`k{k}.params` under `srs/<name>-<id>/` in the cache directory: halo2's raw
//! parameter layout) are trusted for nothing. Before use each is checked against the `τ·G2` it is
//! filed under: `G1` and `G2` are the generators, the powers are successive (`e(Σ r_i·g_{i+1}, G2) =
//! e(Σ r_i·g_i, τ·G2)` for random `r`), and the Lagrange basis commits a random polynomial as the
//! powers do. A planted file fails the check and is refused (the development SRS is made again).
//!
//! The development SRS ([`SrsRef::dev`]) is insecure on purpose: its `τ` comes from a published seed,
//! so anyone can forge proofs against it. It exists for trying zkinfer out and for tests; a verifier
//! refuses its proofs unless told otherwise.

use std::path::PathBuf;

use ff::Field;
use group::Curve;
use halo2_proofs::{
    halo2curves::{
        bn256::{Bn256, Fr, G1Affine, G2Affine},
        pairing::Engine,
    },
    poly::{
        commitment::{Blind, Params as _, ParamsProver as _},
        kzg::commitment::ParamsKZG,
        EvaluationDomain,
    },
    SerdeFormat,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::artifacts::model_file::hex;

/// KZG parameters over BN254 (prover: all powers and the Lagrange basis; verifier: three points).
pub type Params = ParamsKZG<Bn256>;

/// The seed of the development SRS's `τ` (public: the development SRS is insecure).
const DEV_SEED: [u8; 32] = *b"zkinfer development SRS (unsafe)";

/// Name of the development SRS.
pub const DEV: &str = "dev";
/// The SRS a model is compiled for unless told otherwise.
pub const DEFAULT: &str = "hermez";

/// `τ·G2` of the SRS zkinfer knows by name (hex of the compressed point), pinned.
pub const KNOWN: [(&str, &str); 2] = [
    (
        DEV,
        "66a725638f2fc8fb6063c19347682689f9ea3ba07980f2e5439ff28ff1c00622795206958abd951ffcacd4bc8c47907f53d4c7380dfbce396789401e257c5645",
    ),
    (
        "hermez",
        "9ef7ae8aee7f9fbc35256c99a6896971279089a85221c4820437d3b5d11f44303de238193d44d835e9f7ca20d12c195fd39765f8915b9a9c2f4dee652d6a1826",
    ),
];

/// Which SRS a model is proven with: its name and `τ·G2`, all a verifier needs of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrsRef {
    /// `dev`, `hermez`, or the name an SRS was imported under.
    pub name: String,
    /// `τ·G2`, hex of its compressed encoding (64 bytes).
    pub tau_g2: String,
}

/// Why an SRS could not be used.
#[derive(Debug, Error)]
pub enum SrsError {
    /// A file or directory could not be read or written.
    #[error("SRS file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No cache directory: neither `ZKINFER_CACHE_DIR`, `XDG_CACHE_HOME` nor `HOME` is set.
    #[error(
        "no cache directory for the SRS and keys: HOME is not set; set ZKINFER_CACHE_DIR to a \
         directory of your own"
    )]
    NoCacheDir,
    /// No file of this SRS covers k.
    #[error(
        "no SRS '{name}' for k = {k} on this machine: run `zkinfer srs import FILE` (a snarkjs \
         .ptau file or halo2 KZG parameters) or `zkinfer srs get --k {k}`, or compile with \
         `--srs dev` (insecure, for trying out)"
    )]
    Missing {
        /// The SRS's name.
        name: String,
        /// The k needed.
        k: u32,
    },
    /// A file is not the SRS it is filed as.
    #[error("SRS file {path} is not the SRS '{name}': {why}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The SRS it should hold.
        name: String,
        /// The check that failed.
        why: String,
    },
    /// No SRS of this name is known or imported.
    #[error(
        "no SRS named '{0}': known are {known}; import one with `zkinfer srs import FILE --name {0}`",
        known = KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    )]
    Unknown(String),
    /// `τ·G2` is not a point's encoding, or a known SRS's name comes with another point.
    #[error("{0}")]
    BadRef(String),
}

/// Where the parameters came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamsSource {
    /// The cached file, which passed its check.
    Cache,
    /// Made now (the development SRS, no cached file) and cached.
    Created,
    /// The cached file failed its check (`why`): made again (the development SRS) and replaced.
    Rebuilt {
        /// What was wrong with the cached file.
        why: String,
    },
}

impl ParamsSource {
    /// What a user should be told about parameters for `k` from this source (a rebuilt file).
    pub fn warning(&self, k: u32) -> Option<String> {
        match self {
            ParamsSource::Rebuilt { why } => Some(format!(
                "the cached parameters file for k = {k} was not the one zkinfer derives ({why}); \
                 made again and replaced"
            )),
            _ => None,
        }
    }
}

/// A G2 point from hex (compressed).
fn g2_from_hex(s: &str) -> Result<G2Affine, SrsError> {
    let bad = || SrsError::BadRef(format!("'{}' is not a G2 point (τ·G2)", s.escape_debug()));
    if s.len() != 128 {
        return Err(bad());
    }
    let mut bytes = [0u8; 64];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    let mut repr = <G2Affine as group::GroupEncoding>::Repr::default();
    repr.as_mut().copy_from_slice(&bytes);
    Option::from(<G2Affine as group::GroupEncoding>::from_bytes(&repr)).ok_or_else(bad)
}

/// Hex of a G2 point's compressed encoding.
pub fn g2_to_hex(p: &G2Affine) -> String {
    hex(group::GroupEncoding::to_bytes(p).as_ref())
}

impl SrsRef {
    /// The development SRS (insecure: its τ is public).
    pub fn dev() -> SrsRef {
        SrsRef {
            name: DEV.into(),
            tau_g2: g2_to_hex(&dev_tau_g2()),
        }
    }

    /// The SRS zkinfer knows by this name, with its pinned point.
    pub fn known(name: &str) -> Option<SrsRef> {
        KNOWN.iter().find(|(n, _)| *n == name).map(|(n, p)| SrsRef {
            name: (*n).into(),
            tau_g2: (*p).into(),
        })
    }

    /// Whether `name` can name an SRS: 1 to 32 ASCII letters, digits, `-` or `_`.
    pub fn name_is_valid(name: &str) -> bool {
        (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// Whether this is the development SRS.
    pub fn is_dev(&self) -> bool {
        self.name == DEV
    }

    /// A short identifier of the point (the first 16 hex digits of its BLAKE2b-256 digest).
    pub fn id(&self) -> String {
        let d = blake2b_simd::Params::new()
            .hash_length(32)
            .personal(b"zkinfer-srs\0\0\0\0\0")
            .hash(self.tau_g2.as_bytes());
        hex(&d.as_bytes()[..8])
    }

    /// `τ·G2`, checked: a point, and the pinned one when the name is one zkinfer knows (and the name
    /// well-formed).
    pub fn tau_g2(&self) -> Result<G2Affine, SrsError> {
        if !Self::name_is_valid(&self.name) {
            return Err(SrsError::BadRef(format!(
                "'{}' is not an SRS name: 1 to 32 letters, digits, '-' or '_'",
                self.name
                    .chars()
                    .take(40)
                    .collect::<String>()
                    .escape_debug()
            )));
        }
        if let Some((_, pinned)) = KNOWN.iter().find(|(n, _)| *n == self.name) {
            if *pinned != self.tau_g2 {
                return Err(SrsError::BadRef(format!(
                    "the SRS is named '{}' but its τ·G2 is not that SRS's ({} instead of {pinned})",
                    self.name, self.tau_g2
                )));
            }
        }
        g2_from_hex(&self.tau_g2)
    }

    /// What a KZG verifier needs for circuits of `2^k` rows: `G1`, `G2`, `τ·G2` (no file, no download).
    pub fn verifier_params(&self, k: u32) -> Result<Params, SrsError> {
        let tau_g2 = self.tau_g2()?;
        let seed = ParamsKZG::<Bn256>::setup(0, ChaCha20Rng::from_seed([0; 32]));
        Ok(seed.from_parts(
            k,
            vec![G1Affine::generator()],
            Some(vec![]),
            G2Affine::generator(),
            tau_g2,
        ))
    }
}

/// The development SRS's `τ·G2`.
fn dev_tau_g2() -> G2Affine {
    let tau = Fr::random(ChaCha20Rng::from_seed(DEV_SEED));
    (G2Affine::generator() * tau).to_affine()
}

/// The development SRS for `2^k` rows (insecure; deterministic).
pub fn dev_params(k: u32) -> Params {
    ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::from_seed(DEV_SEED))
}

/// Check that `params` are the SRS with this `τ·G2` for `2^k` rows; returns why not.
///
/// Two facts are checked at random points, as one pairing equation: that the powers are successive
/// powers of the `τ` of `τ·G2`, `Σ r_i·g_{i+1} = τ·Σ r_i·g_i`, and that the Lagrange basis is the
/// powers' (a random polynomial, evaluations `e` and coefficients `c`, commits alike in both bases:
/// `Σ e_i·L_i = Σ c_i·g_i`). With a random `ρ`, both hold when
///
/// ```text
/// e(Σ r_i·g_{i+1} − ρ·Σ c_i·g_i + ρ·Σ e_i·L_i, G2) = e(Σ r_i·g_i, τ·G2)
/// ```
///
/// (if either fails, the equation holds for at most one `ρ`), and the left side's two sums over the
/// powers are one multi-exponentiation: three in all, where checking them apart takes four. `r`,
/// `e` and `ρ` are random 128-bit integers: a wrong file passes with probability at most about
/// `2^-128` per fact (for a non-zero vector `d`, `Σ r_i·d_i = 0` fixes one `r_i` modulo the group's
/// order), and a multi-exponentiation by 128-bit scalars costs about half of one by full-width
/// ones. A file that fails is then checked fact by fact, to say which.
pub fn check_params(params: &Params, k: u32, tau_g2: &G2Affine) -> Result<(), String> {
    check_points(params, k, tau_g2)?;
    let g = params.get_g();
    let n = g.len();
    let mut rng = ChaCha20Rng::from_seed(random_seed());
    let mut random = || {
        let mut bytes = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rng, &mut bytes);
        <Fr as ff::PrimeField>::from_u128(u128::from_le_bytes(bytes))
    };
    let r: Vec<Fr> = (0..n - 1).map(|_| random()).collect();
    let rho = random();
    let domain = EvaluationDomain::<Fr>::new(1, k);
    let evals = domain.lagrange_from_vec((0..n).map(|_| random()).collect());
    let by_lagrange = params.commit_lagrange(&evals, Blind::default());
    let coeffs = domain.lagrange_to_coeff(evals);
    // Σ r_i·g_{i+1} − ρ·Σ c_i·g_i, over g_0..g_{n-1}.
    let scalars: Vec<Fr> = (0..n)
        .map(|i| {
            let shifted = if i == 0 { Fr::zero() } else { r[i - 1] };
            shifted - rho * coeffs[i]
        })
        .collect();
    let left = halo2_proofs::arithmetic::best_multiexp(&scalars, g) + by_lagrange * rho;
    let lo = halo2_proofs::arithmetic::best_multiexp(&r, &g[..n - 1]);
    if Bn256::pairing(&left.to_affine(), &G2Affine::generator())
        == Bn256::pairing(&lo.to_affine(), tau_g2)
    {
        return Ok(());
    }
    Err(check_apart(params, k, tau_g2)
        .err()
        .unwrap_or_else(|| "it fails the check of its powers and Lagrange basis".into()))
}

/// The checks of [`check_params`] that read no more than a few points: k, the generators, `τ·G2`.
fn check_points(params: &Params, k: u32, tau_g2: &G2Affine) -> Result<(), String> {
    if params.k() != k {
        return Err(format!("it is for k = {}, not {k}", params.k()));
    }
    if params.get_g().first() != Some(&G1Affine::generator())
        || params.g2() != G2Affine::generator()
    {
        return Err("its first powers are not the generators".into());
    }
    if params.s_g2() != *tau_g2 {
        return Err("its τ·G2 is another".into());
    }
    Ok(())
}

/// [`check_params`]'s two facts checked one after the other (four multi-exponentiations): says
/// which one a file fails.
pub fn check_apart(params: &Params, k: u32, tau_g2: &G2Affine) -> Result<(), String> {
    check_points(params, k, tau_g2)?;
    let g = params.get_g();
    let n = g.len();
    let mut rng = ChaCha20Rng::from_seed(random_seed());
    // The powers: Σ r_i·g_{i+1} = τ·Σ r_i·g_i, checked by one pairing equation.
    let r: Vec<Fr> = (0..n - 1).map(|_| Fr::random(&mut rng)).collect();
    let lo = halo2_proofs::arithmetic::best_multiexp(&r, &g[..n - 1]).to_affine();
    let hi = halo2_proofs::arithmetic::best_multiexp(&r, &g[1..]).to_affine();
    if Bn256::pairing(&hi, &G2Affine::generator()) != Bn256::pairing(&lo, tau_g2) {
        return Err("its powers of τ in G1 are not successive powers of the τ of its τ·G2".into());
    }
    // The Lagrange basis: a random polynomial committed in both bases.
    let domain = EvaluationDomain::<Fr>::new(1, k);
    let evals = domain.lagrange_from_vec((0..n).map(|_| Fr::random(&mut rng)).collect());
    let by_lagrange = params.commit_lagrange(&evals, Blind::default()).to_affine();
    let by_powers = params
        .commit(&domain.lagrange_to_coeff(evals), Blind::default())
        .to_affine();
    if by_lagrange != by_powers {
        return Err("its Lagrange basis is not the one of its powers".into());
    }
    Ok(())
}

/// A seed that a planted file cannot anticipate.
fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
    seed
}

/// The bytes of a parameters file (halo2's raw layout: `k | g | g_lagrange | g2 | τ·g2`).
pub fn params_bytes(params: &Params) -> Vec<u8> {
    let mut bytes = Vec::new();
    params
        .write_custom(&mut bytes, SerdeFormat::RawBytes)
        .expect("writing to memory");
    bytes
}

/// Parameters from a file's bytes (points checked to lie on their curves).
pub fn params_from_bytes(mut bytes: &[u8]) -> std::io::Result<Params> {
    let params = Params::read_custom(&mut bytes, SerdeFormat::RawBytes)?;
    if !bytes.is_empty() {
        return Err(std::io::Error::other("bytes follow the parameters"));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A base field element from big-endian hex.
    fn fq(hex: &str) -> halo2_proofs::halo2curves::bn256::Fq {
        let mut repr = [0u8; 32];
        for i in 0..32 {
            repr[31 - i] = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        ff::PrimeField::from_repr(repr).unwrap()
    }

    #[test]
    fn hermez_pin_is_the_point_of_the_hermez_ceremony() {
        // τ·G2 of the Hermez Powers of Tau (the `X_2` of snarkjs PLONK verifiers made with it).
        use halo2_proofs::halo2curves::bn256::Fq2;
        let x = Fq2 {
            c0: fq("30441fd1b5d3370482c42152a8899027716989a6996c2535bc9f7fee8aaef79e"),
            c1: fq("26186a2d65ee4d2f9c9a5b91f86597d35f192cd120caf7e935d8443d1938e23d"),
        };
        let y = Fq2 {
            c0: fq("054793348f12c0cf5622c340573cb277586319de359ab9389778f689786b1e48"),
            c1: fq("1970ea81dd6992adfbc571effb03503adbbb6a857f578403c6c40e22d65b3c02"),
        };
        use halo2_proofs::halo2curves::CurveAffine;
        let p: G2Affine = Option::from(G2Affine::from_xy(x, y)).expect("on the curve");
        println!("hermez {}", g2_to_hex(&p));
        println!("dev {}", SrsRef::dev().tau_g2);
        assert_eq!(g2_to_hex(&p), SrsRef::known("hermez").unwrap().tau_g2);
    }

    #[test]
    fn known_points_are_pinned_and_decode() {
        assert_eq!(
            SrsRef::dev().tau_g2,
            KNOWN[0].1,
            "the development SRS's pin"
        );
        for (name, point) in KNOWN {
            let r = SrsRef {
                name: name.into(),
                tau_g2: point.into(),
            };
            r.tau_g2().unwrap();
        }
        let forged = SrsRef {
            name: "hermez".into(),
            tau_g2: SrsRef::dev().tau_g2,
        };
        assert!(forged.tau_g2().is_err());
    }

    #[test]
    fn dev_params_pass_the_check_and_a_planted_file_fails_it() {
        let k = 5;
        let params = dev_params(k);
        let tau_g2 = SrsRef::dev().tau_g2().unwrap();
        check_params(&params, k, &tau_g2).unwrap();
        check_apart(&params, k, &tau_g2).unwrap();
        let bytes = params_bytes(&params);
        let back = params_from_bytes(&bytes).unwrap();
        check_params(&back, k, &tau_g2).unwrap();
        // Another τ (known to whoever planted it), with the right τ·G2 claimed.
        let planted = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::from_seed([7; 32]));
        let planted = planted.from_parts(
            k,
            planted.get_g().to_vec(),
            None,
            G2Affine::generator(),
            tau_g2,
        );
        let why = check_params(&planted, k, &tau_g2).unwrap_err();
        assert!(why.contains("successive"), "{why}");
        // Right powers, wrong Lagrange basis.
        let mut lagrange = params.get_g().to_vec();
        lagrange.swap(1, 2);
        let wrong = params.from_parts(
            k,
            params.get_g().to_vec(),
            Some(lagrange),
            G2Affine::generator(),
            tau_g2,
        );
        let why = check_params(&wrong, k, &tau_g2).unwrap_err();
        assert!(why.contains("Lagrange"), "{why}");
        assert!(check_params(&params, k + 1, &tau_g2).is_err());
    }
}
