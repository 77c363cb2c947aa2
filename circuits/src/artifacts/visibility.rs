//! What a proof reveals of each tensor, in types that cannot say what zkinfer does not prove: the
//! input is public, hashed (its hash salted or not) or private; the output and the weights are
//! public or hashed (a hidden output says nothing, and a verifier must know which weights ran).
//!
//! A model file writes them as it always did (`"input": "hashed"`, `"input_salted": true`, ...), so
//! digests are unchanged; a file naming an illegal combination is refused when read.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a proof reveals about a tensor, as flags and files name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// The values are public inputs of the circuit (or, for weights, fixed columns).
    Public,
    /// The values are private; their Poseidon hash is public.
    Hashed,
    /// Nothing is revealed.
    Private,
}

impl std::fmt::Display for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Visibility::Public => "public",
            Visibility::Hashed => "hashed",
            Visibility::Private => "private",
        })
    }
}

/// The model's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputVisibility {
    /// Its values are public.
    Public,
    /// Its values are public, packed several to an instance cell: the circuit range-checks each
    /// value (one range-table lookup) and proves the packing, and the verifier packs the claimed
    /// values the same way. The compiler chooses it for a long int8 input (see
    /// [`Visibilities::packing_input_of`]): halo2's verifier pays for every instance row. Flags
    /// and reports name it `public`.
    PublicPacked,
    /// Its Poseidon hash is public; `salted`: the hash of a secret salt and the input, so that a
    /// low-entropy input cannot be recovered by hashing candidates.
    Hashed {
        /// Whether the hash is salted.
        salted: bool,
    },
    /// Nothing is revealed: the proof says some input gives the output.
    Private,
}

/// The model's output, or its weights: public or hashed, never hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revealed {
    /// Public values (weights: fixed columns).
    Public,
    /// Private values whose Poseidon hash is public.
    Hashed,
}

impl Revealed {
    /// Whether only the hash is public.
    pub fn is_hashed(&self) -> bool {
        *self == Revealed::Hashed
    }

    /// As flags and files name it.
    pub fn kind(&self) -> Visibility {
        match self {
            Revealed::Public => Visibility::Public,
            Revealed::Hashed => Visibility::Hashed,
        }
    }
}

impl InputVisibility {
    /// Whether only the (possibly salted) hash is public.
    pub fn is_hashed(&self) -> bool {
        matches!(self, InputVisibility::Hashed { .. })
    }

    /// Whether the input's hash is salted.
    pub fn salted(&self) -> bool {
        matches!(self, InputVisibility::Hashed { salted: true })
    }

    /// Whether the input's values are public (packed or not).
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            InputVisibility::Public | InputVisibility::PublicPacked
        )
    }

    /// Whether the input's public values are packed into instance cells.
    pub fn is_packed(&self) -> bool {
        *self == InputVisibility::PublicPacked
    }

    /// As flags and files name it.
    pub fn kind(&self) -> Visibility {
        match self {
            InputVisibility::Public | InputVisibility::PublicPacked => Visibility::Public,
            InputVisibility::Hashed { .. } => Visibility::Hashed,
            InputVisibility::Private => Visibility::Private,
        }
    }
}

impl std::fmt::Display for InputVisibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind().fmt(f)
    }
}

impl std::fmt::Display for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind().fmt(f)
    }
}

/// What a proof reveals of the model's input, its output and its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VisibilitiesFile", into = "VisibilitiesFile")]
pub struct Visibilities {
    /// The input.
    pub input: InputVisibility,
    /// The output.
    pub output: Revealed,
    /// The weights and biases (public: fixed columns; hashed: private, their hash public).
    pub weights: Revealed,
}

/// A combination of visibilities zkinfer does not prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum VisibilityError {
    /// A private output.
    #[error("a private output: a proof must reveal its output or the output's hash (use public or hashed)")]
    PrivateOutput,
    /// Private weights.
    #[error("private weights: a verifier must know which weights were used (make them public or hashed)")]
    PrivateWeights,
    /// A packed input that is not public.
    #[error("a packed input that is not public: only public values are packed into the instance")]
    PackedUnpublicInput,
    /// A salt on an input that is not hashed.
    #[error("a salted input that is not hashed: only a hashed input's hash can be salted (add --input hashed)")]
    SaltedUnhashedInput,
}

impl Default for Visibilities {
    fn default() -> Self {
        Visibilities::PUBLIC
    }
}

impl Visibilities {
    /// Everything public.
    pub const PUBLIC: Visibilities = Visibilities {
        input: InputVisibility::Public,
        output: Revealed::Public,
        weights: Revealed::Public,
    };

    /// The visibilities flags name, checked.
    pub fn new(
        input: Visibility,
        output: Visibility,
        weights: Visibility,
        input_salted: bool,
    ) -> Result<Self, VisibilityError> {
        let revealed = |v: Visibility, err: VisibilityError| match v {
            Visibility::Public => Ok(Revealed::Public),
            Visibility::Hashed => Ok(Revealed::Hashed),
            Visibility::Private => Err(err),
        };
        let input = match (input, input_salted) {
            (Visibility::Hashed, salted) => InputVisibility::Hashed { salted },
            (_, true) => return Err(VisibilityError::SaltedUnhashedInput),
            (Visibility::Public, false) => InputVisibility::Public,
            (Visibility::Private, false) => InputVisibility::Private,
        };
        Ok(Visibilities {
            input,
            output: revealed(output, VisibilityError::PrivateOutput)?,
            weights: revealed(weights, VisibilityError::PrivateWeights)?,
        })
    }

    /// Whether some tensor is hashed (the circuit hashes).
    pub fn hashing(&self) -> bool {
        self.input.is_hashed() || self.output.is_hashed() || self.weights.is_hashed()
    }

    /// These visibilities with a public input packed into instance cells when `packed`, unpacked
    /// when not (a hashed or private input is left as it is).
    pub fn with_packed_input(self, packed: bool) -> Self {
        let input = match (self.input, packed) {
            (InputVisibility::Public | InputVisibility::PublicPacked, true) => {
                InputVisibility::PublicPacked
            }
            (InputVisibility::Public | InputVisibility::PublicPacked, false) => {
                InputVisibility::Public
            }
            (other, _) => other,
        };
        Visibilities { input, ..self }
    }

    /// These visibilities with the input packed where `graph` is a candidate
    /// ([`crate::disclosure::packs_public_input`]: a long int8 input). The compiler packs it only
    /// where that keeps the circuit's k.
    pub fn packing_input_of(self, graph: &crate::qgraph::QuantGraph) -> Self {
        self.with_packed_input(crate::disclosure::packs_public_input(graph))
    }
}

/// The model file's form (the fields as they always were).
#[derive(Serialize, Deserialize)]
struct VisibilitiesFile {
    input: Visibility,
    output: Visibility,
    weights: Visibility,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    input_salted: bool,
    /// A public input packed into instance cells. Absent means false: older files keep their bytes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    input_packed: bool,
}

impl TryFrom<VisibilitiesFile> for Visibilities {
    type Error = VisibilityError;
    fn try_from(f: VisibilitiesFile) -> Result<Self, VisibilityError> {
        let v = Visibilities::new(f.input, f.output, f.weights, f.input_salted)?;
        match (f.input_packed, v.input) {
            (false, _) => Ok(v),
            (true, InputVisibility::Public) => Ok(Visibilities {
                input: InputVisibility::PublicPacked,
                ..v
            }),
            (true, _) => Err(VisibilityError::PackedUnpublicInput),
        }
    }
}

impl From<Visibilities> for VisibilitiesFile {
    fn from(v: Visibilities) -> Self {
        VisibilitiesFile {
            input: v.input.kind(),
            output: v.output.kind(),
            weights: v.weights.kind(),
            input_salted: v.input.salted(),
            input_packed: v.input.is_packed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_keep_their_form_and_illegal_combinations_are_refused() {
        let v = Visibilities::new(
            Visibility::Hashed,
            Visibility::Public,
            Visibility::Hashed,
            true,
        )
        .unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            r#"{"input":"hashed","output":"public","weights":"hashed","input_salted":true}"#
        );
        assert_eq!(serde_json::from_str::<Visibilities>(&json).unwrap(), v);
        let public = serde_json::to_string(&Visibilities::PUBLIC).unwrap();
        assert_eq!(
            public,
            r#"{"input":"public","output":"public","weights":"public"}"#
        );
        for bad in [
            r#"{"input":"public","output":"private","weights":"public"}"#,
            r#"{"input":"public","output":"public","weights":"private"}"#,
            r#"{"input":"private","output":"public","weights":"public","input_salted":true}"#,
            r#"{"input":"hashed","output":"public","weights":"public","input_packed":true}"#,
        ] {
            assert!(serde_json::from_str::<Visibilities>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Visibilities::new(
                Visibility::Public,
                Visibility::Public,
                Visibility::Public,
                true
            ),
            Err(VisibilityError::SaltedUnhashedInput)
        );
        let packed = Visibilities {
            input: InputVisibility::PublicPacked,
            ..Visibilities::PUBLIC
        };
        let json = serde_json::to_string(&packed).unwrap();
        assert_eq!(
            json,
            r#"{"input":"public","output":"public","weights":"public","input_packed":true}"#
        );
        assert_eq!(serde_json::from_str::<Visibilities>(&json).unwrap(), packed);
        assert_eq!(packed.input.to_string(), "public");
    }
}
