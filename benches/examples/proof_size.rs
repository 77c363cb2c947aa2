//! Probe: proof sizes, predicted from the verifying key and measured, of a compiled model.
//! `cargo run -p zkinfer-benches --example proof_size -- MODEL.zkm INPUT.json`
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = circuits::ModelFile::read(std::path::Path::new(&args[0]))?;
    let x = circuits::artifacts::input::parse_input(&std::fs::read_to_string(&args[1])?)?;
    let vk = model.verifying_key()?;
    let cs = vk.cs();
    println!(
        "k {} shape {:?}: advice {} (queries {}), fixed queries {}, lookups {}, permutation columns {}, degree {}",
        model.k,
        model.shape,
        cs.num_advice_columns(),
        cs.advice_queries().len(),
        cs.fixed_queries().len(),
        cs.lookups().len(),
        cs.permutation().get_columns().len(),
        cs.degree()
    );
    let predicted = circuits::keys::proof_bytes(&vk);
    let bundle = prover::Prover::new(&model)?.prove(&x)?;
    println!(
        "proof: predicted {predicted} B, measured {} B",
        bundle.proof_bytes()?.len()
    );
    Ok(())
}
