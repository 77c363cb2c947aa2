//! inspect: a human summary of a .zkm or .zkp file (or one JSON object).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::json;

use circuits::ModelFile;
use verifier::bundle::printable;
use verifier::ProofBundle;

use super::{fmt_outputs, print_json, top_class};

pub fn inspect(path: &Path, json: bool) -> Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(String::from))
        .unwrap_or_default();
    let name = path.display().to_string();
    if format.starts_with("zkinfer-model/") {
        let m = ModelFile::from_bytes(&bytes, &name)?;
        inspect_model(&m, json);
    } else if format.starts_with("zkinfer-proof/") {
        let b = ProofBundle::from_bytes(&bytes, &name)?;
        inspect_proof(&b, json)?;
    } else {
        bail!("{name} is neither a zkinfer model (.zkm) nor a proof bundle (.zkp)");
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect_model(m: &ModelFile, json: bool) {
    let g = &m.graph;
    if json {
        print_json(&json!({
            "kind": "model", "format": m.format, "name": m.name, "source": m.source, "digest": m.digest,
            "input_shape": g.input_shape.0, "output_shape": g.output_shape().0, "visibility": m.visibility,
            "k": m.k, "width": m.shape.width, "layers": g.layers.len(), "macs": g.macs(), "report": m.report,
            "weights_hash": m.weights_hash, "stripped": m.stripped,
            "commitment": m.proof_system.commitment, "srs": m.proof_system.srs,
        }));
        return;
    }
    println!(
        "zkinfer model {} (from {}), format {}",
        m.name, m.source, m.format
    );
    println!("  digest: {}", m.digest);
    let srs = match &m.proof_system.srs {
        Some(s) if s.is_dev() => ", development SRS (INSECURE: anyone can forge its proofs)".into(),
        Some(s) => format!(", SRS '{}'", s.name),
        None => String::new(),
    };
    println!("  proof system: {}{srs}", m.proof_system.commitment);
    match &g.int8 {
        Some(io) => {
            // A uint8 model is held as int8 (bytes - 128); shown as the file has it.
            let (ty, off) = match io.unsigned {
                true => ("uint8", io.byte_offset()),
                false => ("int8", 0),
            };
            println!(
                "  input {} {ty} (scale {}, zero point {}), output {} {ty} (scale {}, zero point {})",
                g.input_shape,
                io.input.scale,
                io.input.zero_point + off,
                g.output_shape(),
                io.output.scale,
                io.output.zero_point + off
            );
            if io.unsigned {
                println!("  (proven as int8: each byte minus 128)");
            }
        }
        None => println!(
            "  input {} at scale 2^{}, output {} at scale 2^{}",
            g.input_shape,
            g.input_scale,
            g.output_shape(),
            g.output_scale()
        ),
    }
    println!(
        "  visibility: input {}{}, output {}, weights {}",
        m.visibility.input,
        match m.visibility.input.is_packed() {
            true => " (packed into instance cells)",
            false => "",
        },
        m.visibility.output,
        m.visibility.weights
    );
    if let Some(h) = &m.weights_hash {
        println!("  weights hash: {h}");
    }
    if m.stripped {
        println!("  stripped: the weights are not in this file (it verifies proofs, it cannot make them)");
    }
    println!(
        "  circuit: k = {}, width {}, {} layers, {} MACs",
        m.k,
        m.shape.width,
        g.layers.len(),
        g.macs()
    );
    println!("{}", m.report);
}

fn inspect_proof(b: &ProofBundle, json: bool) -> Result<()> {
    let proof_len = b.proof_bytes()?.len();
    let out = &b.public.output.values;
    if json {
        print_json(&json!({
            "kind": "proof", "format": b.format, "model_name": b.model_name, "model_digest": b.model_digest,
            "k": b.k, "visibility": b.visibility, "input": b.public.input.values, "outputs": [out],
            "input_hash": b.public.input.hash, "output_hash": b.public.output.hash,
            "weights_hash": b.public.weights_hash,
            "proof_bytes": proof_len, "prover": b.prover,
        }));
        return Ok(());
    }
    println!("zkinfer proof bundle, format {}", b.format);
    println!(
        "  model: {} (digest {})",
        printable(&b.model_name),
        b.model_digest
    );
    println!("  revealed:");
    for (name, t, vis) in [
        ("input", &b.public.input, b.visibility.input.kind()),
        ("output", &b.public.output, b.visibility.output.kind()),
    ] {
        let what = match (&t.hash, vis) {
            (Some(h), _) => format!("hashed: only its Poseidon hash {h} is revealed"),
            (None, circuits::Visibility::Public) => {
                format!("public: all {} values", t.values.len())
            }
            (None, _) => "private: nothing but its shape is revealed".into(),
        };
        println!("    {name:<7} {} {what}", shape_str(&t.shape));
    }
    match &b.public.weights_hash {
        Some(h) => println!(
            "    weights hashed: only their Poseidon hash {h} is revealed (in the model file too)"
        ),
        None => println!(
            "    weights {} (the model file carries them)",
            b.visibility.weights
        ),
    }
    if !out.is_empty() {
        println!("  outputs: {}", fmt_outputs(out));
    }
    if let Some(c) = top_class(out, b.public.input.shape.iter().product()) {
        println!("  top class: {c}");
    }
    let p = &b.prover;
    println!(
        "  proof: {} bytes, k = {}; made by {} {} with {} threads (prove {:.3} s, keygen {:.3} s)",
        proof_len,
        b.k,
        printable(&p.tool),
        printable(&p.version),
        p.threads,
        p.prove_s,
        p.keygen_s
    );
    println!("  (claims only: run `zkinfer verify` with the model to check them)");
    Ok(())
}

fn shape_str(s: &[usize]) -> String {
    circuits::ir::Shape(s.to_vec()).to_string()
}
