//! `zkinfer-verify`: the lean verifier. It links the circuit definition and halo2 only (no ONNX
//! importer, no quantizer, no prover). Exit codes: 0 valid, 1 invalid, 2 unreadable input or bad usage.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "zkinfer-verify",
    version,
    about = "Verify zkinfer proof bundles (.zkp) against a compiled model (.zkm)",
    after_help = "Examples:\n  zkinfer-verify input.zkp -m model.zkm\n  zkinfer-verify proofs/*.zkp -m model.zkm --json\n  zkinfer-verify input.zkp -m model.pub.zkm --model-digest D   # D: the digest the model owner published\n\n\
        Exit codes: 0 every proof valid, 1 a proof invalid, 2 unreadable input or bad usage."
)]
struct Args {
    #[command(flatten)]
    verify: verifier::cli::VerifyArgs,
}

fn main() -> ExitCode {
    verifier::cli::quiet_broken_pipe();
    let args = Args::parse();
    match verifier::cli::run(&args.verify) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
