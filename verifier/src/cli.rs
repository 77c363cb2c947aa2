//! The verify command, shared by `zkinfer verify` and the lean `zkinfer-verify` binary: one plain line
//! per proof for people (or one JSON object for scripts), exit 0 when every proof is valid, 1 when one
//! is not. Many proofs of one model are checked as a batch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use circuits::ModelFile;

use crate::outputs::{fmt_outputs, top_class};
use crate::{ModelVerifier, ProofBundle, Verdict};

/// Anything that keeps verification from running (exit 2).
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// One line of the verdict on `proof`; `input_len`: the model's input values (a top class is shown for
/// classifiers only).
fn line(proof: &Path, v: &Verdict, input_len: usize) -> String {
    if v.valid {
        let out = &v.outputs[0];
        let top = top_class(out, input_len)
            .map(|c| format!(", top class {c}"))
            .unwrap_or_default();
        let input = match &v.input_hash {
            Some(h) => format!(" on input hash {h}"),
            None => String::new(),
        };
        let output = match &v.output_hash {
            Some(h) => format!("output hash {h}"),
            None => format!("output {}{top}", fmt_outputs(out)),
        };
        let weights = match &v.weights_hash {
            Some(h) => format!(" with weights hash {h}"),
            None => String::new(),
        };
        format!(
            "VALID: {} proves model {} (digest {}){weights}{input} {output}",
            proof.display(),
            crate::bundle::printable(&v.model_name),
            v.model_digest,
        )
    } else {
        format!(
            "INVALID: {}: {}",
            proof.display(),
            v.reason.as_deref().unwrap_or("the proof does not verify")
        )
    }
}

/// The verify command's arguments, shared by `zkinfer verify` and `zkinfer-verify`.
#[cfg(feature = "cli")]
#[derive(Clone, Debug, clap::Args)]
pub struct VerifyArgs {
    /// Proof bundles; several are checked together as a batch
    #[arg(required = true)]
    pub proofs: Vec<PathBuf>,
    /// The compiled model the proofs must be about (or its stripped copy)
    #[arg(short, long)]
    pub model: PathBuf,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// Also require the model's digest to be this one, as the model's owner published it
    /// (`zkinfer inspect MODEL.zkm` prints it): it covers the architecture, scales, visibility and
    /// weights (or their hash); exit 1 on any other model
    #[arg(long, value_name = "DIGEST")]
    pub model_digest: Option<String>,
    /// Also require the proof's (hashed) input to have this hash (`zkinfer hash` prints it);
    /// exit 1 when the proof is about another input
    #[arg(long, value_name = "HASH")]
    pub input_hash: Option<String>,
    /// Also require the model's (hashed) weights to have this hash; exit 1 on other weights. The
    /// weights hash alone does not identify a model: pin --model-digest
    #[arg(long, value_name = "HASH")]
    pub weights_hash: Option<String>,
    /// Accept proofs made with the development SRS (insecure: anyone can forge them; for trying
    /// zkinfer out and tests only). ZKINFER_ALLOW_DEV_SRS=1 does the same
    #[arg(long)]
    pub allow_dev_srs: bool,
    /// Audit the model file: make its verifying key again from the model and its SRS (needs the
    /// SRS's file on this machine, as a prover does) and exit 1 unless it is the one the file holds
    #[arg(long)]
    pub rebuild_key: bool,
}

/// A digest or hash given on the command line, in its canonical form (64 lowercase hexadecimal
/// digits); an optional `0x` and upper case are accepted there, nothing else.
#[cfg(feature = "cli")]
fn canonical_arg(what: &str, s: &str) -> Result<String, CliError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("--{what} '{s}': expected 64 hexadecimal digits").into());
    }
    Ok(digits.to_ascii_lowercase())
}

/// What the caller expects of every proof besides validity (canonical hex strings).
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// The model's digest, as its owner published it.
    pub model_digest: Option<String>,
    /// The hash the (hashed) input must have, as `zkinfer hash` prints it.
    pub input_hash: Option<String>,
    /// The hash the (hashed) weights must have, as the model owner published it.
    pub weights_hash: Option<String>,
    /// Whether development-SRS proofs are accepted.
    pub allow_dev_srs: bool,
    /// Whether the model's verifying key is made again and compared with the stored one.
    pub rebuild_key: bool,
}

impl Expect {
    /// The expectations of `args`, checked for form (exit 2 when malformed).
    #[cfg(feature = "cli")]
    pub fn of(args: &VerifyArgs) -> Result<Self, CliError> {
        let canon =
            |what, s: &Option<String>| s.as_deref().map(|s| canonical_arg(what, s)).transpose();
        Ok(Expect {
            model_digest: canon("model-digest", &args.model_digest)?,
            input_hash: canon("input-hash", &args.input_hash)?,
            weights_hash: canon("weights-hash", &args.weights_hash)?,
            allow_dev_srs: args.allow_dev_srs || dev_srs_allowed_by_env(),
            rebuild_key: args.rebuild_key,
        })
    }

    /// Mark `v` invalid when the proof is about another model, input or weights than expected.
    pub fn apply(&self, v: &mut Verdict) {
        if let (Some(want), true) = (&self.model_digest, v.valid) {
            if *want != v.model_digest {
                v.valid = false;
                v.reason = Some(format!(
                    "the model's digest is {}, not the expected {want}",
                    v.model_digest
                ));
                return;
            }
        }
        let checks = [
            ("input", &self.input_hash, v.input_hash.clone()),
            ("weights", &self.weights_hash, v.weights_hash.clone()),
        ];
        for (what, want, got) in checks {
            let (Some(want), true) = (want, v.valid) else {
                continue;
            };
            let reason = match got {
                Some(h) if h == *want => continue,
                Some(h) => {
                    format!("the proof is about the {what} with hash {h}, not the expected {want}")
                }
                None => format!("--{what}-hash was given, but the proof's {what} is not hashed"),
            };
            v.valid = false;
            v.reason = Some(reason);
        }
    }
}

/// Say on stderr that a cached parameters file was not the pinned one (and was made again).
fn warn_params(verifier: &ModelVerifier<'_>) {
    if let Some(w) = &verifier.params_warning {
        eprintln!("warning: {w}");
    }
}

/// Whether `ZKINFER_ALLOW_DEV_SRS=1` accepts development-SRS proofs.
pub fn dev_srs_allowed_by_env() -> bool {
    std::env::var("ZKINFER_ALLOW_DEV_SRS").is_ok_and(|v| v == "1")
}

/// Run the verify command.
#[cfg(feature = "cli")]
pub fn run(args: &VerifyArgs) -> Result<ExitCode, CliError> {
    let expect = Expect::of(args)?;
    run_expecting(&args.proofs, &args.model, args.json, &expect)
}

/// Verify `proofs` against `model`, each also meeting `expect`.
pub fn run_expecting(
    proofs: &[PathBuf],
    model: &Path,
    json: bool,
    expect: &Expect,
) -> Result<ExitCode, CliError> {
    let bundles = proofs
        .iter()
        .map(|p| ProofBundle::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let m = ModelFile::read_to_verify(model)?;
    if expect.rebuild_key {
        if let Err(why) = crate::verify::rebuild_key(&m) {
            println!("INVALID model {}: {why}", model.display());
            return Ok(ExitCode::from(1));
        }
        eprintln!(
            "the verifying key in {} is the one its model and SRS make",
            model.display()
        );
    }
    if let Some(srs) = &m.proof_system.srs {
        if !srs.is_dev() && circuits::setup::srs::SrsRef::known(&srs.name).is_none() {
            eprintln!(
                "note: the model's SRS '{}' is not one zkinfer knows (it was imported): a verdict \
                 is only as sound as that SRS's ceremony",
                srs.name.escape_debug()
            );
        }
    }
    if m.proof_system.on_dev_srs() && expect.allow_dev_srs {
        eprintln!(
            "warning: the model is on the development SRS (insecure: anyone can forge its proofs); \
             accepted because development-SRS proofs are allowed"
        );
    }
    let code = |ok: bool| {
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    };
    if let [bundle] = bundles.as_slice() {
        let mut v = match crate::verify::claims_verdict(bundle, &m) {
            (v, None) => v,
            (_, Some(_)) => {
                let verifier = ModelVerifier::with_options(&m, expect.allow_dev_srs)?;
                warn_params(&verifier);
                verifier.verify(bundle)
            }
        };
        expect.apply(&mut v);
        if json {
            let mut obj = serde_json::to_value(&v)?;
            obj["proof"] = json!(proofs[0]);
            obj["model"] = json!(model);
            println!("{obj}");
        } else {
            let ms = (v.params_s + v.keygen_vk_s + v.verify_s) * 1e3;
            let timing = if v.valid {
                format!("; checked in {ms:.0} ms")
            } else {
                String::new()
            };
            println!("{}{timing}", line(&proofs[0], &v, m.graph.input_len()));
        }
        return Ok(code(v.valid));
    }
    let verifier = ModelVerifier::with_options(&m, expect.allow_dev_srs)?;
    warn_params(&verifier);
    let mut outcome = verifier.verify_batch(&bundles);
    for v in &mut outcome.verdicts {
        expect.apply(v);
    }
    let invalid: Vec<&PathBuf> = proofs
        .iter()
        .zip(&outcome.verdicts)
        .filter(|(_, v)| !v.valid)
        .map(|(p, _)| p)
        .collect();
    if json {
        let results: Vec<_> = proofs
            .iter()
            .zip(&outcome.verdicts)
            .map(|(p, v)| json!({"proof": p, "valid": v.valid, "reason": v.reason, "model_digest": v.model_digest, "outputs": v.outputs}))
            .collect();
        println!(
            "{}",
            json!({
                "valid": invalid.is_empty(), "model": model, "model_digest": m.digest, "total": proofs.len(),
                "valid_count": proofs.len() - invalid.len(), "invalid_count": invalid.len(), "invalid": invalid,
                "params_s": verifier.params_s, "keygen_vk_s": verifier.keygen_vk_s, "batch_s": outcome.batch_s,
                "checked_one_by_one": outcome.checked_one_by_one, "results": results,
            })
        );
    } else {
        for (p, v) in proofs
            .iter()
            .zip(&outcome.verdicts)
            .filter(|(_, v)| !v.valid)
        {
            println!("{}", line(p, v, m.graph.input_len()));
        }
        println!(
            "{} proofs of model {}: {} valid, {} invalid; checked in {:.0} ms (verifying key {:.0} ms, batch {:.0} ms)",
            proofs.len(),
            m.name,
            proofs.len() - invalid.len(),
            invalid.len(),
            (verifier.params_s + verifier.keygen_vk_s + outcome.batch_s) * 1e3,
            verifier.keygen_vk_s * 1e3,
            outcome.batch_s * 1e3
        );
    }
    Ok(code(invalid.is_empty()))
}

/// Let a write into a closed pipe (`zkinfer inspect proof.zkp | head`) end the process quietly, as
/// Unix tools do, instead of a panic in `println!` (Rust's runtime ignores SIGPIPE). Call it first
/// in `main`.
pub fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: resets one signal's disposition to the default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
