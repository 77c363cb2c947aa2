//! `zkinfer-verify`: the lean verifier. It links the circuit definition and halo2 only (no ONNX
//! importer, no quantizer, no prover). Exit codes: 0 valid, 1 invalid, 2 unreadable input or bad usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "zkinfer-verify",
    version,
    about = "Verify zkinfer proof bundles (.zkp) against a compiled model (.zkm)",
    after_help = "Examples:\n  zkinfer-verify input.zkp -m model.zkm\n  zkinfer-verify proofs/*.zkp -m model.zkm --json\n\n\
        Exit codes: 0 every proof valid, 1 a proof invalid, 2 unreadable input or bad usage."
)]
struct Args {
    /// Proof bundles; several are checked together as a batch
    #[arg(required = true)]
    proofs: Vec<PathBuf>,
    /// The compiled model the proofs must be about
    #[arg(short, long)]
    model: PathBuf,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
    /// Also require the proof's (hashed) input to have this hash (`zkinfer hash` prints it)
    #[arg(long, value_name = "HASH")]
    input_hash: Option<String>,
    /// Also require the model's (hashed) weights to have this hash, as the model owner published it
    #[arg(long, value_name = "HASH")]
    weights_hash: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let expect = verifier::cli::Expect {
        input_hash: args.input_hash,
        weights_hash: args.weights_hash,
    };
    match verifier::cli::run_expecting(&args.proofs, &args.model, args.json, &expect) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
