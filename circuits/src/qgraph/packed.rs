//! Long integer lists that a model file stores packed: the successive differences of the values,
//! zigzag-encoded as LEB128 varints, in one base64 string.
//!
//! A model's weights and its threshold maps (an int8 model holds one per output channel, 255 values
//! each: hundreds of thousands in all) took four to six JSON characters a value, and parsing those
//! numbers was most of a large int8 model's verification. Packed, the same lists take two to three
//! characters a value and decode several times faster. Files written before packing hold plain
//! JSON arrays: they are read as they are and written back the same way, so a model's digest (the
//! hash of its JSON) does not change.

use std::ops::{Deref, DerefMut};

use base64::Engine;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::artifacts::model_file::MAX_WORK;

/// Most values one list may hold: a model file's largest work ([`MAX_WORK`]; a layer's weights are
/// at most its multiply-accumulates). Checked while the file is read, before anything larger is
/// allocated.
pub const MAX_VALUES: usize = MAX_WORK;

/// How a list is written in a model file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Form {
    /// One base64 string (what this version writes).
    #[default]
    Packed,
    /// A JSON array of numbers (files written before packing; kept so their digest holds).
    Listed,
}

/// A list of integers, written packed (see the module's documentation). Equality compares the
/// values only.
#[derive(Clone, Debug, Default)]
pub struct PackedInts {
    values: Vec<i64>,
    form: Form,
}

impl PackedInts {
    /// Whether the list is written as a plain JSON array (read from a file written before packing).
    pub fn is_listed(&self) -> bool {
        self.form == Form::Listed
    }
}

impl From<Vec<i64>> for PackedInts {
    fn from(values: Vec<i64>) -> Self {
        PackedInts {
            values,
            form: Form::Packed,
        }
    }
}

impl FromIterator<i64> for PackedInts {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Self {
        iter.into_iter().collect::<Vec<_>>().into()
    }
}

impl Deref for PackedInts {
    type Target = [i64];
    fn deref(&self) -> &[i64] {
        &self.values
    }
}

impl DerefMut for PackedInts {
    fn deref_mut(&mut self) -> &mut [i64] {
        &mut self.values
    }
}

impl PartialEq for PackedInts {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl Eq for PackedInts {}

/// The varint bytes of `values`: each difference from the previous value (the first from 0),
/// wrapping, zigzag-encoded, 7 bits a byte, low bits first.
pub fn encode(values: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 2);
    let mut prev = 0i64;
    for &v in values {
        let d = v.wrapping_sub(prev);
        prev = v;
        let mut z = ((d << 1) ^ (d >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }
    out
}

/// The values of [`encode`]'s bytes; `None` for a truncated or over-long varint, or more than
/// [`MAX_VALUES`] values.
pub fn decode(bytes: &[u8]) -> Option<Vec<i64>> {
    decode_at_most(bytes, MAX_VALUES)
}

/// [`decode`], refusing more than `most` values.
fn decode_at_most(bytes: &[u8], most: usize) -> Option<Vec<i64>> {
    let mut out = Vec::with_capacity((bytes.len() / 2).min(most));
    let mut prev = 0i64;
    let mut z = 0u64;
    let mut shift = 0u32;
    for &b in bytes {
        // A u64 takes at most ten 7-bit groups, the tenth holding one bit.
        if shift == 63 && b > 1 {
            return None;
        }
        z |= u64::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            shift += 7;
            continue;
        }
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        prev = prev.wrapping_add(d);
        if out.len() == most {
            return None;
        }
        out.push(prev);
        z = 0;
        shift = 0;
    }
    (shift == 0).then_some(out)
}

impl Serialize for PackedInts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.form {
            Form::Packed => s.serialize_str(
                &base64::engine::general_purpose::STANDARD.encode(encode(&self.values)),
            ),
            Form::Listed => self.values.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PackedInts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = PackedInts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a packed integer list (base64) or an array of integers")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<PackedInts, E> {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| E::custom(format!("packed integers: {e}")))?;
                let values = decode(&bytes).ok_or_else(|| {
                    E::custom(format!(
                        "packed integers: a truncated or over-long varint, or more than \
                         {MAX_VALUES} values"
                    ))
                })?;
                Ok(PackedInts {
                    values,
                    form: Form::Packed,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PackedInts, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(v) = seq.next_element::<i64>()? {
                    if values.len() == MAX_VALUES {
                        return Err(A::Error::custom(format!(
                            "more than {MAX_VALUES} integers in one list"
                        )));
                    }
                    values.push(v);
                }
                Ok(PackedInts {
                    values,
                    form: Form::Listed,
                })
            }
        }
        d.deserialize_any(Either)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_values() {
        let values = vec![
            0,
            339,
            1018,
            1018,
            -5,
            i64::MIN,
            i64::MAX,
            -1,
            1 << 35,
            -(1 << 35),
        ];
        assert_eq!(decode(&encode(&values)), Some(values.clone()));
        let json = serde_json::to_string(&PackedInts::from(values.clone())).unwrap();
        assert!(json.starts_with('"'), "{json}");
        let back: PackedInts = serde_json::from_str(&json).unwrap();
        assert_eq!(&back[..], &values[..]);
        assert!(!back.is_listed());
        // Ten groups, the last holding one bit: the largest u64, a valid difference.
        let most: PackedInts = serde_json::from_str("\"////////////AQ==\"").unwrap();
        assert_eq!(&most[..], &[i64::MIN]);
    }

    #[test]
    fn a_list_longer_than_allowed_is_refused() {
        let bytes = encode(&[5, 6, 7]);
        assert_eq!(decode_at_most(&bytes, 3), Some(vec![5, 6, 7]));
        assert_eq!(decode_at_most(&bytes, 2), None);
    }

    #[test]
    fn small_steps_take_two_bytes() {
        let steps: Vec<i64> = (0..255).map(|i| 339 + 679 * i).collect();
        assert_eq!(encode(&steps).len(), 2 * 255);
    }

    #[test]
    fn an_array_is_read_and_written_back_as_an_array() {
        let json = "[-3,0,7,7,12]";
        let v: PackedInts = serde_json::from_str(json).unwrap();
        assert!(v.is_listed());
        assert_eq!(&v[..], &[-3, 0, 7, 7, 12]);
        assert_eq!(serde_json::to_string(&v).unwrap(), json);
    }

    #[test]
    fn malformed_strings_are_refused() {
        for bad in [
            "\"not base64!\"",
            // 0x80: a varint that never ends.
            "\"gA==\"",
            // Eleven 7-bit groups, and ten whose last holds more than a u64's last bit.
            "\"/////////////wE=\"",
            "\"////////////Ag==\"",
            "12",
            "[1, \"a\"]",
        ] {
            assert!(
                serde_json::from_str::<PackedInts>(bad).is_err(),
                "{bad} was accepted"
            );
        }
    }
}
