//! zkinfer's verifier in the browser: one function, [`verify`], that the page in `www/` calls through
//! wasm-bindgen with the bytes of a dropped `.zkp` and `.zkm`. Everything runs locally; nothing is sent
//! anywhere. It is the verifier crate's [`verifier::verify_bytes`], with the verdict as JSON.
//!
//! Build the page with `verifier-web/build.sh` (see README).

use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;

/// The verdict as JSON: `verdict` is `"valid"`, `"invalid"` (with a `reason`) or `"unreadable"` (with
/// the `reason` the files could not be checked); a checked proof also carries the verifier's fields
/// (`model_name`, `model_digest`, `outputs`, `k`, `proof_bytes`, `params_s`, `keygen_vk_s`, `verify_s`).
/// Proofs made with the development SRS (insecure) are accepted only when `allow_dev_srs`.
pub fn verdict_json(
    zkp_name: &str,
    zkp: &[u8],
    zkm_name: &str,
    zkm: &[u8],
    allow_dev_srs: bool,
) -> Value {
    match verifier::verify_bytes(zkp, zkp_name, zkm, zkm_name, allow_dev_srs) {
        Ok(v) => {
            let mut obj = serde_json::to_value(&v).expect("a verdict serializes");
            obj["verdict"] = json!(if v.valid { "valid" } else { "invalid" });
            obj
        }
        Err(e) => json!({ "verdict": "unreadable", "reason": e.to_string() }),
    }
}

/// Verify a proof bundle (`.zkp` bytes) against a compiled model (`.zkm` bytes); the names only label
/// error messages. Returns [`verdict_json`]'s object as a JSON string.
#[wasm_bindgen]
pub fn verify(
    zkp_name: &str,
    zkp: &[u8],
    zkm_name: &str,
    zkm: &[u8],
    allow_dev_srs: bool,
) -> String {
    verdict_json(zkp_name, zkp, zkm_name, zkm, allow_dev_srs).to_string()
}

/// This verifier's version, shown on the page.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
