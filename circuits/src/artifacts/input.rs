//! Input files: EZKL's `{"input_data": [[...]]}` (one entry per model input, concatenated) or a
//! plain (nested) array of numbers.

use serde_json::Value;
use thiserror::Error;

/// Why an input or calibration file could not be read as numbers.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InputError {
    /// The text is not valid JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A value is NaN or infinite (including `NaN` or `Infinity` written in the file).
    #[error("NaN and infinities are not numbers: {0}")]
    NotFinite(String),
    /// An element of the arrays is not a number.
    #[error("element {path} is {found}, expected a number")]
    NotANumber {
        /// Where it is, as indices (`input_data[0][3]`), or `(root)`.
        path: String,
        /// What was found instead (`null`, `the string "a"`, ...).
        found: String,
    },
    /// The JSON is neither an array of numbers nor an object with `"input_data"` (or `"samples"`).
    #[error("expected an array of numbers or {{\"input_data\": [[...]]}}, found {0}")]
    Shape(String),
    /// The input (or the list of samples) holds no numbers.
    #[error("the input is empty")]
    Empty,
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn flatten(v: &Value, path: &mut String, out: &mut Vec<f64>) -> Result<(), InputError> {
    match v {
        Value::Number(n) => {
            let x = n
                .as_f64()
                .ok_or_else(|| InputError::NotFinite(n.to_string()))?;
            if !x.is_finite() {
                return Err(InputError::NotFinite(n.to_string()));
            }
            out.push(x);
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                flatten(item, path, out)?;
                path.truncate(len);
            }
            Ok(())
        }
        other => Err(InputError::NotANumber {
            path: if path.is_empty() {
                "(root)".into()
            } else {
                path.clone()
            },
            found: kind(other),
        }),
    }
}

/// Largest input or calibration file read (bytes).
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Read a text file of at most [`MAX_INPUT_BYTES`].
pub fn read_limited(path: &std::path::Path) -> std::io::Result<String> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{size} bytes, over the {MAX_INPUT_BYTES}-byte limit"),
        ));
    }
    std::fs::read_to_string(path)
}

/// Parse one input (all numbers, flattened in row-major order).
pub fn parse_input(text: &str) -> Result<Vec<f64>, InputError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        let t = text.to_ascii_lowercase();
        if t.contains("nan") || t.contains("infinity") {
            InputError::NotFinite(format!("the file contains NaN or Infinity ({e})"))
        } else {
            InputError::Json(e.to_string())
        }
    })?;
    parse_input_value(&v)
}

/// [`parse_input`] on parsed JSON: a plain (nested) array, or EZKL's `{"input_data": [[...]]}`.
pub fn parse_input_value(v: &Value) -> Result<Vec<f64>, InputError> {
    let mut out = Vec::new();
    match v {
        Value::Object(map) => {
            let data = map
                .get("input_data")
                .ok_or_else(|| InputError::Shape("an object without \"input_data\"".into()))?;
            let inputs = data
                .as_array()
                .ok_or_else(|| InputError::Shape(format!("\"input_data\" as {}", kind(data))))?;
            // EZKL's form: one entry per model input, each a (nested) list; several inputs are
            // concatenated in the model's input order.
            if inputs.is_empty() {
                return Err(InputError::Empty);
            }
            flatten(data, &mut "input_data".to_string(), &mut out)?;
        }
        Value::Array(_) => flatten(v, &mut String::new(), &mut out)?,
        other => return Err(InputError::Shape(kind(other))),
    }
    if out.is_empty() {
        return Err(InputError::Empty);
    }
    Ok(out)
}

/// One model input as a file gives it: floats (quantized with the model's input scale), or an int8
/// model's own integers (`{"input_int8": [...]}`), taken as they are.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelInput {
    /// Float values.
    Floats(Vec<f64>),
    /// The model's own integers: int8 values in `[-128, 127]`, or a uint8 model's bytes in
    /// `[0, 255]` (checked against the model by [`crate::qgraph::QuantGraph::input_values`]).
    Int8(Vec<i64>),
}

/// Parse one input: [`parse_input`]'s forms, or `{"input_int8": [...]}` (a nested list of integers
/// in `[-128, 255]`: an int8 model's values, or a uint8 model's bytes).
pub fn parse_model_input(text: &str) -> Result<ModelInput, InputError> {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return parse_input(text).map(ModelInput::Floats),
    };
    let Some(data) = v.as_object().and_then(|m| m.get("input_int8")) else {
        return parse_input_value(&v).map(ModelInput::Floats);
    };
    let mut out = Vec::new();
    flatten(data, &mut "input_int8".to_string(), &mut out)?;
    if out.is_empty() {
        return Err(InputError::Empty);
    }
    out.iter()
        .enumerate()
        .map(
            |(i, x)| match x.fract() == 0.0 && (-128.0..=255.0).contains(x) {
                true => Ok(*x as i64),
                false => Err(InputError::Shape(format!(
                    "input_int8 value {x} at index {i} (int8 values are integers in [-128, 127], \
                     a uint8 model's in [0, 255])"
                ))),
            },
        )
        .collect::<Result<Vec<i64>, _>>()
        .map(ModelInput::Int8)
}

/// Parse a calibration file: `{"samples": [input, ...]}`, or a single input.
pub fn parse_samples(text: &str) -> Result<Vec<Vec<f64>>, InputError> {
    let v: Value = serde_json::from_str(text).map_err(|e| InputError::Json(e.to_string()))?;
    if let Some(samples) = v.get("samples") {
        let arr = samples
            .as_array()
            .ok_or_else(|| InputError::Shape(format!("\"samples\" as {}", kind(samples))))?;
        if arr.is_empty() {
            return Err(InputError::Empty);
        }
        return arr.iter().map(parse_input_value).collect();
    }
    Ok(vec![parse_input_value(&v)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ezkl_and_plain_forms() {
        assert_eq!(
            parse_input(r#"{"input_data": [[1, 2.5]]}"#).unwrap(),
            vec![1.0, 2.5]
        );
        assert_eq!(
            parse_input("[[1, 2], [3, 4]]").unwrap(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn rejects_strings_nan_and_garbage_with_a_path() {
        assert_eq!(
            parse_model_input(r#"{"input_int8": [[-128, 5], [127, 0]]}"#).unwrap(),
            ModelInput::Int8(vec![-128, 5, 127, 0])
        );
        assert_eq!(
            parse_model_input("[0.5, 1]").unwrap(),
            ModelInput::Floats(vec![0.5, 1.0])
        );
        assert!(parse_model_input(r#"{"input_int8": [256]}"#).is_err());
        assert!(parse_model_input(r#"{"input_int8": [-129]}"#).is_err());
        assert!(parse_model_input(r#"{"input_int8": [1.5]}"#).is_err());
        let e = parse_input(r#"{"input_data": [[1, "x"]]}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "element input_data[0][1] is the string \"x\", expected a number"
        );
        assert!(matches!(
            parse_input("[1, NaN]"),
            Err(InputError::NotFinite(_))
        ));
        assert!(matches!(parse_input("[1, 2"), Err(InputError::Json(_))));
        assert!(matches!(parse_input("[]"), Err(InputError::Empty)));
        // Several model inputs are one input, concatenated.
        assert_eq!(
            parse_input(r#"{"input_data": [[1], [2, 3]]}"#).unwrap(),
            vec![1.0, 2.0, 3.0]
        );
    }
}
