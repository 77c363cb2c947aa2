//! Artifacts: the files a user handles, the compiled model (`.zkm`) and inputs (JSON).

pub mod input;
pub mod model_file;
