//! verify: the verifier crate's command (one proof, or many as a batch).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Result};

pub fn verify(args: &verifier::cli::VerifyArgs) -> Result<ExitCode> {
    verifier::cli::run(args).map_err(|e| anyhow!("{e}"))
}

/// `zkinfer hash`: the hash a hashed input will have in proofs of `model`.
pub fn hash(input: &Path, model: &Path, salt_file: Option<&Path>, json: bool) -> Result<ExitCode> {
    let m = circuits::ModelFile::read_to_verify(model)?;
    let text = circuits::artifacts::input::read_limited(input)
        .map_err(|e| anyhow!("cannot read input {}: {e}", input.display()))?;
    let values = circuits::artifacts::input::parse_model_input(&text)
        .map_err(|e| anyhow!("input {}: {e}", input.display()))?;
    let q = m
        .graph
        .input_values(&values)
        .map_err(|e| anyhow!("input {}: {e}", input.display()))?;
    let packing = circuits::disclosure::Disclosure::new(&m.graph, m.visibility).input_packing;
    let h = match (m.visibility.input.salted(), salt_file) {
        (true, Some(f)) => packing.salted_hash(prover::salt::read_salt(f)?, &q),
        (false, None) => packing.hash(&q),
        (true, None) => anyhow::bail!(
            "model {} salts its input's hash: give the proof's salt with --salt-file",
            model.display()
        ),
        (false, Some(_)) => anyhow::bail!(
            "model {} does not salt its input's hash: drop --salt-file",
            model.display()
        ),
    }
    .map_err(|e| anyhow!("input {}: {e}", input.display()))?;
    let hex = circuits::disclosure::hashing::to_hex(h);
    if json {
        let note = (!m.visibility.input.is_hashed()).then_some(
            "the model's input is not hashed: its proofs carry the values, not this hash",
        );
        println!(
            "{}",
            serde_json::json!({"input": input, "model": model, "input_hash": hex, "note": note})
        );
    } else {
        println!("{hex}");
        if !m.visibility.input.is_hashed() {
            eprintln!(
                "note: {} has a {} input; its proofs carry the values, not this hash",
                m.name, m.visibility.input
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
