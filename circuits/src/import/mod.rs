//! Import: a model file becomes the float graph ([`crate::ir::Graph`]). Each format is known in its
//! own module only: ONNX (through tract-onnx's protobuf types) and TFLite (through the flatbuffer
//! schema tract-tflite generates). [`import`] tells them apart by the file's content.

pub mod onnx;
pub mod tflite;

use std::path::Path;

use thiserror::Error;

pub use onnx::{import_with, ImportOptions, OnnxError};
pub use tflite::TfliteError;

use crate::ir::Graph;

/// Why a model file could not be imported.
#[derive(Debug, Error)]
pub enum ImportError {
    /// An ONNX file (or a file that is neither format).
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// A TFLite file.
    #[error(transparent)]
    Tflite(#[from] TfliteError),
}

/// Import an ONNX or TFLite file (told apart by content: TFLite's flatbuffer identifier `TFL3`).
pub fn import(path: &Path) -> Result<Graph, ImportError> {
    let mut head = [0u8; 8];
    let is_tflite = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|_| tflite::is_tflite(&head));
    match is_tflite {
        true => Ok(tflite::import(path)?),
        false => Ok(onnx::import(path)?),
    }
}
