//! The verify command, shared by `zkinfer verify` and the lean `zkinfer-verify` binary: one plain line
//! per proof for people (or one JSON object for scripts), exit 0 when every proof is valid, 1 when one
//! is not. Many proofs of one model are checked as a batch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use circuits::ModelFile;

use crate::{ModelVerifier, ProofBundle, Verdict};

/// Anything that keeps verification from running (exit 2).
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

fn fmt_floats(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", items.join(", "))
}

fn top_class(v: &[f64]) -> Option<usize> {
    (v.len() > 1).then(|| {
        v.iter()
            .enumerate()
            .fold(0, |b, (i, x)| if *x > v[b] { i } else { b })
    })
}

fn line(proof: &Path, v: &Verdict) -> String {
    if v.valid {
        let out = &v.outputs[0];
        let top = top_class(out)
            .map(|c| format!(", top class {c}"))
            .unwrap_or_default();
        let input = match &v.input_hash {
            Some(h) => format!(" on input hash {h}"),
            None => String::new(),
        };
        let output = match &v.output_hash {
            Some(h) => format!("output hash {h}"),
            None => format!("output {}{top}", fmt_floats(out)),
        };
        let weights = match &v.weights_hash {
            Some(h) => format!(" with weights hash {h}"),
            None => String::new(),
        };
        format!(
            "VALID: {} proves model {} ({}){weights}{input} {output}",
            proof.display(),
            v.model_name,
            &v.model_digest[..16.min(v.model_digest.len())],
        )
    } else {
        format!(
            "INVALID: {}: {}",
            proof.display(),
            v.reason.as_deref().unwrap_or("the proof does not verify")
        )
    }
}

/// What the caller expects of every proof besides validity.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// The hash the (hashed) input must have, as `zkinfer hash` prints it.
    pub input_hash: Option<String>,
    /// The hash the (hashed) weights must have, as the model owner published it.
    pub weights_hash: Option<String>,
}

impl Expect {
    /// Mark `v` invalid when the proof is about another input or other weights than expected.
    fn apply(&self, v: &mut Verdict) -> Result<(), CliError> {
        let checks = [
            ("input", &self.input_hash, v.input_hash.clone()),
            ("weights", &self.weights_hash, v.weights_hash.clone()),
        ];
        for (what, want, got) in checks {
            let Some(want) = want else {
                continue;
            };
            let want = circuits::hashing::to_hex(circuits::hashing::from_hex(want)?);
            if !v.valid {
                continue;
            }
            let reason = match got {
                Some(h) if h == want => continue,
                Some(h) => {
                    format!("the proof is about the {what} with hash {h}, not the expected {want}")
                }
                None => format!("--{what}-hash was given, but the proof's {what} is not hashed"),
            };
            v.valid = false;
            v.reason = Some(reason);
        }
        Ok(())
    }
}

/// Verify `proofs` against `model`.
pub fn run(proofs: &[PathBuf], model: &Path, json: bool) -> Result<ExitCode, CliError> {
    run_expecting(proofs, model, json, &Expect::default())
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
    let m = ModelFile::read(model)?;
    let code = |ok: bool| {
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    };
    if let [bundle] = bundles.as_slice() {
        let mut v = crate::verify_bundle(bundle, &m)?;
        expect.apply(&mut v)?;
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
            println!("{}{timing}", line(&proofs[0], &v));
        }
        return Ok(code(v.valid));
    }
    let verifier = ModelVerifier::new(&m)?;
    let mut outcome = verifier.verify_batch(&bundles);
    for v in &mut outcome.verdicts {
        expect.apply(v)?;
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
            .map(|(p, v)| json!({"proof": p, "valid": v.valid, "reason": v.reason, "outputs": v.outputs}))
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
            println!("{}", line(p, v));
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
