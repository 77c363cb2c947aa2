//! Artifacts: the files a user handles, the compiled model (`.zkm`, with its proof system) and inputs
//! (JSON).

pub mod input;
mod model_check;
pub mod model_file;
pub mod proof_system;
pub mod visibility;
