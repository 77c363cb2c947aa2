//! The `zkinfer` command line: a thin layer over the prover, verifier and compiler libraries.
//! Exit codes: 0 ok, 1 proof invalid, 2 bad usage or bad input.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "zkinfer",
    version,
    about = "Prove in zero knowledge that a small neural network produced an output",
    long_about = "Prove in zero knowledge that a small neural network produced an output.\n\n\
        halo2 (halo2-axiom) with KZG commitments over BN254 by default: proofs of about 3 KB, verified \
        in milliseconds, with a structured reference string from a public Powers of Tau ceremony \
        (zkinfer srs). `compile --commitment ipa` is the transparent mode (no trusted setup).",
    after_help = "Examples:\n  \
        zkinfer demo\n  \
        zkinfer srs get --k 15\n  \
        zkinfer compile model.onnx --calibration samples.json\n  \
        zkinfer plan model.zkm\n  \
        zkinfer prove -m model.zkm -i input.json\n  \
        zkinfer verify input.zkp -m model.zkm --json\n\n\
        Exit codes: 0 ok, 1 proof invalid, 2 bad usage or bad input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Vis {
    Public,
    Hashed,
    Private,
}

impl From<Vis> for circuits::Visibility {
    fn from(v: Vis) -> Self {
        match v {
            Vis::Public => circuits::Visibility::Public,
            Vis::Hashed => circuits::Visibility::Hashed,
            Vis::Private => circuits::Visibility::Private,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum CommitmentArg {
    Kzg,
    Ipa,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Html,
    Md,
}

/// What a proof reveals of the input, the output and the weights (`compile`, `plan`).
#[derive(clap::Args)]
struct VisibilityArgs {
    /// What the proof reveals of the input
    #[arg(long = "input", value_enum, default_value = "public")]
    input_vis: Vis,
    /// What the proof reveals of the output
    #[arg(long = "output-visibility", value_enum, default_value = "public")]
    output_vis: Vis,
    /// What the proof reveals of the weights
    #[arg(long = "weights", value_enum, default_value = "public")]
    weights_vis: Vis,
}

impl VisibilityArgs {
    /// The visibilities asked for, refused when zkinfer does not prove them (exit 2).
    fn visibilities(&self, input_salted: bool) -> anyhow::Result<circuits::Visibilities> {
        let v = circuits::Visibilities::new(
            self.input_vis.into(),
            self.output_vis.into(),
            self.weights_vis.into(),
            input_salted,
        )?;
        Ok(v)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compile an ONNX or float32 TFLite model to a quantized circuit model (.zkm) and print its
    /// quantization report
    #[command(
        after_help = "Examples:\n  zkinfer compile fixtures/digits_mlp.onnx --calibration fixtures/digits/calibration.json\n  zkinfer compile fixtures/digits_mlp.onnx --input hashed --weights hashed -o mlp.zkm   # then: zkinfer strip mlp.zkm\n  zkinfer compile fixtures/lenet5.onnx --max-proof-bytes 3072   # the fastest layout whose proofs fit 3,072 bytes"
    )]
    Compile {
        /// The ONNX or TFLite model (told apart by content)
        model: PathBuf,
        /// Output file [default: the model's path with extension .zkm]
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Sample inputs to calibrate scales on: {"samples": [input, ...]} or one input
        #[arg(long)]
        calibration: Option<PathBuf>,
        #[command(flatten)]
        visibility: VisibilityArgs,
        /// Salt the hashed input's hash: each proof's public value is the hash of a secret salt
        /// and the input (`prove --salt-file`), so a low-entropy input cannot be found by hashing
        /// candidates. Needs --input hashed
        #[arg(long)]
        salt: bool,
        /// Inputs per circuit row [default: chosen with --width for the fastest proof]
        #[arg(long, requires = "width")]
        inputs_per_row: Option<usize>,
        /// Outputs (accumulators) per circuit row [default: chosen for the fastest proof]
        #[arg(long, requires = "inputs_per_row")]
        width: Option<usize>,
        /// Least bits per range-table limb, 6 to 12 (activations keep twice as many): smaller
        /// quantization error, at the price of a larger k when the rows need a smaller one
        #[arg(long, value_name = "BITS")]
        precision: Option<u32>,
        /// Instance columns the public values are spread over, 1 to 16: more verify faster (the
        /// verifier does two exponentiations per row of the longest column), each costs the prover
        /// one more equality column [default: one per 4,096 public values]
        #[arg(long, value_name = "C")]
        instance_columns: Option<usize>,
        /// The most bytes a proof may take (KZG): the planner picks the fastest layout whose proof
        /// fits, whatever it costs (fewer columns, more rows), and says so when none does
        /// [default: no limit; a proof of at most 3,072 bytes is preferred where it costs little]
        #[arg(long, value_name = "BYTES", conflicts_with_all = ["inputs_per_row", "width"])]
        max_proof_bytes: Option<usize>,
        /// The structured reference string (SRS) to prove with: `hermez` (the Hermez Powers of Tau,
        /// `zkinfer srs import` its .ptau file first), a name given to `zkinfer srs import`, or
        /// `dev` (insecure: anyone can forge proofs; verifiers refuse them without --allow-dev-srs)
        /// [default: $ZKINFER_SRS, else hermez]
        #[arg(long, conflicts_with = "commitment")]
        srs: Option<String>,
        /// The commitment scheme: kzg (proofs of about 3 KB, verified in milliseconds; needs an SRS)
        /// or ipa (transparent: no trusted setup, no SRS; slower, larger proofs, k <= 16)
        #[arg(long, value_enum, default_value = "kzg")]
        commitment: CommitmentArg,
        /// Make the keys even when the plan's key-generation peak memory is over what this machine
        /// has (by default the compile is refused before the keys; ZKINFER_MEMORY_AVAILABLE sets
        /// what counts as available)
        #[arg(long)]
        force: bool,
        /// Print one JSON object instead of the report
        #[arg(long)]
        json: bool,
    },
    /// Show the circuit layout of a model: rows, columns, k, estimated time and memory. A compiled
    /// model (.zkm), or an ONNX or TFLite model, which is quantized and planned without making keys
    #[command(
        after_help = "Examples:\n  zkinfer plan model.zkm --json\n  zkinfer plan resnet8.onnx --calibration samples.json   # before compiling: no keys made\n  zkinfer plan model.tflite --inputs-per-row 4 --width 8  # a given row layout\n  zkinfer plan lenet5.onnx --max-proof-bytes 3072          # the fastest layout whose proofs fit"
    )]
    Plan {
        /// The compiled model (.zkm), or an ONNX (.onnx) or TFLite (.tflite) model
        model: PathBuf,
        /// For an ONNX or TFLite model: sample inputs to calibrate scales on (as `compile --calibration`)
        #[arg(long)]
        calibration: Option<PathBuf>,
        /// For an ONNX or TFLite model: what the proof reveals (as `compile`)
        #[command(flatten)]
        visibility: VisibilityArgs,
        /// For an ONNX or TFLite model: plan this many inputs per row (as `compile`)
        #[arg(long, requires = "width")]
        inputs_per_row: Option<usize>,
        /// For an ONNX or TFLite model: plan this many outputs per row (as `compile`)
        #[arg(long, requires = "inputs_per_row")]
        width: Option<usize>,
        /// For an ONNX or TFLite model: spread the public values over this many instance columns
        /// (as `compile`)
        #[arg(long, value_name = "C")]
        instance_columns: Option<usize>,
        /// For an ONNX or TFLite model: the fastest layout whose proof is at most this many bytes
        /// (as `compile`)
        #[arg(long, value_name = "BYTES", conflicts_with_all = ["inputs_per_row", "width"])]
        max_proof_bytes: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Run the quantized inference only (no proof) and print the outputs
    #[command(after_help = "Example:\n  zkinfer run -m model.zkm -i input.json")]
    Run {
        #[arg(short, long)]
        model: PathBuf,
        #[arg(short, long)]
        input: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Prove inferences: writes one self-contained proof bundle (.zkp) per input, loading the SRS
    /// and the proving key once
    #[command(
        after_help = "Examples:\n  zkinfer prove -m model.zkm -i input.json -o input.zkp --threads 2\n  zkinfer prove -m model.zkm -i a.json b.json inputs/ -o proofs/   # many inputs, one key load"
    )]
    Prove {
        #[arg(short, long)]
        model: PathBuf,
        /// Inputs: files holding {"input_data": [[...]]} (EZKL's form) or a (nested) array of
        /// numbers, or folders of such .json files
        #[arg(short, long, num_args = 1.., required = true)]
        input: Vec<PathBuf>,
        /// Output file [default: the input's path with extension .zkp]; with several inputs, the
        /// folder of the proofs [default: beside each input]
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Worker threads [default: all cores]
        #[arg(long)]
        threads: Option<usize>,
        /// The salt of the input's hash (a model compiled with --salt) [default: a new salt,
        /// written beside the proof as PROOF.salt for the input's owner]
        #[arg(long, value_name = "FILE")]
        salt_file: Option<PathBuf>,
        /// Prove even when the plan's peak memory is over what this machine has (by default such a
        /// proof is refused before it starts; ZKINFER_MEMORY_AVAILABLE sets what counts as available)
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Verify proof bundles against a compiled model (exit 0 valid, 1 invalid, 2 unreadable input)
    #[command(
        after_help = "Examples:\n  zkinfer verify input.zkp -m model.zkm --json\n  zkinfer verify proofs/*.zkp -m model.zkm   # a batch\n  zkinfer verify input.zkp -m model.pub.zkm --model-digest D   # D: the digest the model's owner published"
    )]
    Verify(verifier::cli::VerifyArgs),
    /// Print the hash an input will have in proofs of a model compiled with --input hashed
    #[command(
        after_help = "Example:\n  zkinfer hash input.json -m model.zkm\n  zkinfer verify input.zkp -m model.zkm --input-hash $(zkinfer hash input.json -m model.zkm)"
    )]
    Hash {
        /// The input: {"input_data": [[...]]} (EZKL's form) or a (nested) array of numbers
        input: PathBuf,
        #[arg(short, long)]
        model: PathBuf,
        /// The salt the proof's input hash was made with (a model compiled with --salt)
        #[arg(long, value_name = "FILE")]
        salt_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Verify a proof and write a self-contained report page (HTML or Markdown) to attach to a document
    #[command(after_help = "Example:\n  zkinfer report input.zkp -m model.zkm -o report.html")]
    Report {
        proof: PathBuf,
        #[arg(short, long)]
        model: PathBuf,
        /// Output file [default: the proof's path with extension .html or .md]
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "html")]
        format: Format,
        /// Accept a proof made with the development SRS (insecure; ZKINFER_ALLOW_DEV_SRS=1 does the
        /// same); the page says so
        #[arg(long)]
        allow_dev_srs: bool,
    },
    /// Write a copy of a model compiled with --weights hashed without its weights: shapes, scales,
    /// layout and the weights' hash. `verify` accepts it in place of the full model (same digest)
    #[command(
        after_help = "Example:\n  zkinfer compile model.onnx --input hashed --weights hashed -o model.zkm\n  zkinfer strip model.zkm -o model.pub.zkm\n  zkinfer verify input.zkp -m model.pub.zkm"
    )]
    Strip {
        model: PathBuf,
        /// Output file [default: the model's path with extension .pub.zkm]
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Summarize a .zkm or .zkp file
    #[command(after_help = "Example:\n  zkinfer inspect input.zkp")]
    Inspect {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Structured reference strings (SRS) on this machine: list, make, import, download
    #[command(subcommand)]
    Srs(SrsCommand),
    /// Cached proving keys: list, remove, prune (the cache keeps to ZKINFER_KEY_CACHE_GIB, 16 by
    /// default, removing the least recently used keys; a removed key is made again when needed)
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The bundled example: compile the digits MLP, prove one inference, verify it
    Demo {
        /// Keep the files here [default: a temporary directory]
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Subcommand)]
enum SrsCommand {
    /// The SRS zkinfer knows and those imported, with the k their files cover
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make the development SRS for k (INSECURE: its secret is public; for trying out and tests)
    #[command(after_help = "Example:\n  zkinfer srs dev --k 12")]
    Dev {
        #[arg(long)]
        k: u32,
    },
    /// Import a ceremony's SRS: a snarkjs .ptau file (Hermez, Perpetual Powers of Tau) or halo2 KZG
    /// parameters; computes and checks the parameters of every k it covers
    #[command(
        after_help = "Examples:\n  zkinfer srs import powersOfTau28_hez_final_15.ptau          # known: named hermez\n  zkinfer srs import my_ceremony.ptau --name mine --k 16      # then: zkinfer compile ... --srs mine"
    )]
    Import {
        file: PathBuf,
        /// The name models will carry (needed unless the file is an SRS zkinfer knows)
        #[arg(long)]
        name: Option<String>,
        /// Import up to this k only [default: all the file holds, at most 20]
        #[arg(long)]
        k: Option<u32>,
    },
    /// Download the Hermez Powers of Tau file that covers k, check it against its pinned BLAKE2b-512
    /// hash, and import it as `hermez`
    #[command(after_help = "Example:\n  zkinfer srs get --k 15")]
    Get {
        #[arg(long)]
        k: u32,
        /// Download from this base URL (a mirror) instead of the published location
        #[arg(long, value_name = "URL")]
        from: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Each cached proving key: its model, k, size and last use
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove the cached proving keys of models (model files or model digests)
    #[command(
        after_help = "Examples:\n  zkinfer keys remove mlp.zkm\n  zkinfer keys remove 3f2a…(the 64 hex digits of a model digest)"
    )]
    Remove {
        #[arg(required = true, value_name = "MODEL_OR_DIGEST")]
        models: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove the least recently used keys until the cache is within a size, and unfinished writes
    #[command(
        after_help = "Examples:\n  zkinfer keys prune              # to ZKINFER_KEY_CACHE_GIB (16 by default)\n  zkinfer keys prune --max-gib 0  # every key"
    )]
    Prune {
        /// The size to keep to, in GiB [default: ZKINFER_KEY_CACHE_GIB, else 16]
        #[arg(long, value_name = "GIB")]
        max_gib: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// The error and its causes on one line, skipping a cause whose text the message already holds.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}

fn main() -> ExitCode {
    verifier::cli::quiet_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile {
            model,
            output,
            calibration,
            visibility,
            salt,
            inputs_per_row,
            width,
            precision,
            instance_columns,
            max_proof_bytes,
            srs,
            commitment,
            force,
            json,
        } => match visibility.visibilities(salt) {
            Err(e) => Err(e),
            Ok(_) if max_proof_bytes.is_some() && matches!(commitment, CommitmentArg::Ipa) => {
                Err(anyhow::anyhow!(
                    "--max-proof-bytes is for KZG proofs: an IPA proof carries 2k more points"
                ))
            }
            Ok(vis) => {
                let layout = circuits::quantize::LayoutRequest {
                    shape: inputs_per_row.zip(width),
                    min_limb_bits: precision,
                    instance_columns,
                    max_proof_bytes,
                    ..Default::default()
                };
                let srs = srs
                    .or_else(|| std::env::var("ZKINFER_SRS").ok().filter(|s| !s.is_empty()))
                    .unwrap_or_else(|| circuits::setup::srs::DEFAULT.into());
                let commitment = match commitment {
                    CommitmentArg::Kzg => circuits::artifacts::model_file::Commitment::Kzg,
                    CommitmentArg::Ipa => circuits::artifacts::model_file::Commitment::Ipa,
                };
                let opts = prover::CompileOptions {
                    onnx: model,
                    calibration,
                    visibility: vis,
                    layout,
                    srs: circuits::setup::srs::SrsRef::dev(),
                    commitment,
                };
                cli::commands::compile(opts, &srs, output, force, json)
            }
        },
        Command::Plan {
            model,
            calibration,
            visibility,
            inputs_per_row,
            width,
            instance_columns,
            max_proof_bytes,
            json,
        } => {
            let is_source = model.extension().is_some_and(|e| {
                e.eq_ignore_ascii_case("onnx") || e.eq_ignore_ascii_case("tflite")
            });
            if !is_source && calibration.is_some() {
                Err(anyhow::anyhow!(
                    "--calibration is for an ONNX or TFLite model; a compiled model (.zkm) keeps its own scales"
                ))
            } else if !is_source
                && (width.is_some() || instance_columns.is_some() || max_proof_bytes.is_some())
            {
                Err(anyhow::anyhow!(
                    "--inputs-per-row, --width, --instance-columns and --max-proof-bytes are for an ONNX or TFLite model; a compiled model (.zkm) keeps its own layout"
                ))
            } else if !is_source {
                cli::commands::plan_cmd(&model, json)
            } else {
                visibility.visibilities(false).and_then(|visibility| {
                    let opts = prover::CompileOptions {
                        onnx: model,
                        calibration,
                        visibility,
                        layout: circuits::quantize::LayoutRequest {
                            shape: inputs_per_row.zip(width),
                            instance_columns,
                            max_proof_bytes,
                            ..Default::default()
                        },
                        srs: circuits::setup::srs::SrsRef::dev(),
                        commitment: circuits::artifacts::model_file::Commitment::Kzg,
                    };
                    cli::commands::plan_onnx(&opts, json)
                })
            }
        }
        Command::Run { model, input, json } => cli::commands::run(&model, &input, json),
        Command::Prove {
            model,
            input,
            output,
            threads,
            salt_file,
            force,
            json,
        } => cli::set_threads(threads).and_then(|_| {
            let request = cli::prove::ProveRequest {
                output,
                salt_file,
                force,
                json,
            };
            cli::prove::prove(&model, &input, request)
        }),
        Command::Verify(args) => cli::verify::verify(&args),
        Command::Hash {
            input,
            model,
            salt_file,
            json,
        } => cli::verify::hash(&input, &model, salt_file.as_deref(), json),
        Command::Inspect { file, json } => cli::inspect::inspect(&file, json),
        Command::Strip {
            model,
            output,
            json,
        } => cli::commands::strip(&model, output, json),
        Command::Report {
            proof,
            model,
            output,
            format,
            allow_dev_srs,
        } => {
            let format = match format {
                Format::Html => verifier::report::ReportFormat::Html,
                Format::Md => verifier::report::ReportFormat::Markdown,
            };
            let allow_dev_srs = allow_dev_srs || verifier::cli::dev_srs_allowed_by_env();
            cli::report::report(&proof, &model, output, format, allow_dev_srs)
        }
        Command::Srs(c) => match c {
            SrsCommand::List { json } => cli::srs::list(json),
            SrsCommand::Dev { k } => cli::srs::dev(k),
            SrsCommand::Import { file, name, k } => cli::srs::import(&file, name.as_deref(), k),
            SrsCommand::Get { k, from } => cli::srs::get(k, from.as_deref()),
        },
        Command::Keys(c) => match c {
            KeysCommand::List { json } => cli::keys::list(json),
            KeysCommand::Remove { models, json } => cli::keys::remove(&models, json),
            KeysCommand::Prune { max_gib, json } => cli::keys::prune(max_gib.as_deref(), json),
        },
        Command::Demo { out, threads } => {
            cli::set_threads(threads).and_then(|_| cli::demo::demo(out))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}
