//! What the benchmark binaries share: their command lines' `--help` and usage errors.

/// Prints `usage` and exits 0 when the arguments ask for help (`-h`, `--help`); prints it to
/// stderr and exits 2 when an argument starts with `-` and is not in `flags` (a flag the binary
/// does not know). Run before reading the arguments, so that a typo never starts a long benchmark.
pub fn check_args(args: &[String], flags: &[&str], usage: &str) {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{usage}");
        std::process::exit(0);
    }
    if let Some(bad) = args
        .iter()
        .find(|a| a.starts_with('-') && !flags.contains(&a.as_str()))
    {
        eprintln!("error: unknown option '{bad}'\n\n{usage}");
        std::process::exit(2);
    }
}
