//! Probe: the columns a compiled model's constraint system has after key generation.
fn main() {
    let path = std::env::args().nth(1).expect("MODEL.zkm");
    let m = circuits::ModelFile::read_to_verify(std::path::Path::new(&path)).unwrap();
    let bytes = m.verifying_key_bytes().unwrap();
    let vk = circuits::keys::vk_from_bytes(&bytes, m.shape).unwrap();
    let cs = vk.cs();
    println!(
        "{path}: k={} advice {} fixed {} (queries {}) instance {} selectors {} lookups {} degree {} permutation columns {}",
        m.k,
        cs.num_advice_columns(),
        cs.num_fixed_columns(),
        cs.fixed_queries().len(),
        cs.num_instance_columns(),
        cs.num_selectors(),
        cs.lookups().len(),
        cs.degree(),
        cs.permutation().get_columns().len()
    );
}
