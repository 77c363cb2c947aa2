//! verify: one plain line for people, one JSON object for scripts.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use verifier::{verify_bundle, ProofBundle};

use super::{fmt_floats, print_json, read_model, top_class};

pub fn verify(proof: &Path, model: &Path, json: bool) -> Result<ExitCode> {
    let bundle = ProofBundle::read(proof)?;
    let m = read_model(model)?;
    let v = verify_bundle(&bundle, &m)?;
    if json {
        let mut obj = serde_json::to_value(&v)?;
        obj["proof"] = json!(proof);
        obj["model"] = json!(model);
        print_json(&obj);
    } else if v.valid {
        let out = &v.outputs[0];
        let top = top_class(out)
            .map(|c| format!(", top class {c}"))
            .unwrap_or_default();
        println!(
            "VALID: {} proves model {} ({}) output {}{}; checked in {:.0} ms",
            proof.display(),
            v.model_name,
            &v.model_digest[..16],
            fmt_floats(out),
            top,
            (v.params_s + v.keygen_vk_s + v.verify_s) * 1e3
        );
    } else {
        println!(
            "INVALID: {}: {}",
            proof.display(),
            v.reason.as_deref().unwrap_or("the proof does not verify")
        );
    }
    Ok(if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
