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

/// A model as imported: a float graph (quantized by calibration), or an int8 model's own integers.
#[derive(Debug)]
pub enum Imported {
    /// A float model.
    Float(Graph),
    /// A full-integer int8 model (TFLite, or ONNX quantized by onnxruntime).
    Int8(Box<tflite::int8::Int8Model>),
}

fn is_tflite_file(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|_| tflite::is_tflite(&head))
}

/// Import a float ONNX or TFLite file (told apart by content: TFLite's flatbuffer identifier
/// `TFL3`); an int8 model is refused (see [`import_model`]).
pub fn import(path: &Path) -> Result<Graph, ImportError> {
    match is_tflite_file(path) {
        true => Ok(tflite::import(path)?),
        false => Ok(onnx::import(path)?),
    }
}

/// Import any model zkinfer reads: float ONNX or TFLite, a full-integer int8 TFLite, or an int8
/// ONNX model (onnxruntime's QDQ or QOperator form).
pub fn import_model(path: &Path) -> Result<Imported, ImportError> {
    match is_tflite_file(path) {
        true => Ok(match tflite::import_model(path)? {
            tflite::TfliteModel::Float(g) => Imported::Float(g),
            tflite::TfliteModel::Int8(m) => Imported::Int8(Box::new(m)),
        }),
        false => Ok(match onnx::import_model(path)? {
            onnx::OnnxModel::Float(g) => Imported::Float(g),
            onnx::OnnxModel::Int8(m) => Imported::Int8(Box::new(m)),
        }),
    }
}
