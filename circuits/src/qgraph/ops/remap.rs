//! Row-free data movement: Pad, Transpose, Concat, Slice, Gather, Reshape-like picks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CheckCx, EvalCx, OpRules};
use crate::artifacts::model_file::MAX_ELEMENTS;
use crate::lower::{LowerCx, Tail};
use crate::qgraph::{EvalError, QPick};

/// Each output element is an input element or a constant (at the tensor's scale): Pad, Transpose,
/// Concat (the picks index the concatenation of the layer's inputs), Slice, Gather.
///
/// Written as runs (`{"runs": [{"Inputs": [first, step, count]}, {"Const": [value, count]}, ...]}`,
/// see [`PickRun`]): a padded or transposed image is a few runs per row instead of an entry per
/// element, so model files are smaller and read faster. Files written before runs list every pick
/// (`{"map": [...]}`); such a remap is written back that way ([`Self::listed`]), so a digest over its
/// serialization stays the file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QRemap {
    /// One pick per output element, in row-major order.
    pub map: Vec<QPick>,
    /// Whether it is written as a list of picks (read from a file in that form), not as runs.
    pub listed: bool,
}

impl QRemap {
    /// A remap written as runs.
    pub fn new(map: Vec<QPick>) -> Self {
        QRemap { map, listed: false }
    }
}

/// A run of picks: `count` inputs from `first` in steps of `step`, or `count` times a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PickRun {
    /// `Input(first + i * step)` for `i` in `0..count`.
    Inputs(usize, i64, usize),
    /// `Const(value)`, `count` times.
    Const(i64, usize),
}

/// The runs of `map`, each as long as it goes (greedy, so the same picks give the same runs).
pub fn pick_runs(map: &[QPick]) -> Vec<PickRun> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < map.len() {
        let run = match map[i] {
            QPick::Const(c) => {
                let n = map[i..]
                    .iter()
                    .take_while(|p| **p == QPick::Const(c))
                    .count();
                PickRun::Const(c, n)
            }
            QPick::Input(first) => {
                let step = match map.get(i + 1) {
                    Some(QPick::Input(next)) => *next as i64 - first as i64,
                    _ => 1,
                };
                let n = 1
                    + (1..map.len() - i)
                        .take_while(|k| {
                            let next = first as i64 + *k as i64 * step;
                            next >= 0 && map[i + k] == QPick::Input(next as usize)
                        })
                        .count();
                PickRun::Inputs(first, step, n)
            }
        };
        i += match run {
            PickRun::Inputs(_, _, n) | PickRun::Const(_, n) => n,
        };
        runs.push(run);
    }
    runs
}

/// The picks of `runs`; an error when they hold more than [`MAX_ELEMENTS`] picks or an index leaves
/// `0..2^40`.
pub fn expand_runs(runs: &[PickRun]) -> Result<Vec<QPick>, String> {
    let mut map = Vec::new();
    for run in runs {
        let count = match run {
            PickRun::Inputs(_, _, n) | PickRun::Const(_, n) => *n,
        };
        if count == 0 || map.len().saturating_add(count) > MAX_ELEMENTS {
            return Err(format!(
                "a remap run of {count} picks (empty, or over {MAX_ELEMENTS} in all)"
            ));
        }
        match *run {
            PickRun::Const(c, n) => map.extend(std::iter::repeat_n(QPick::Const(c), n)),
            PickRun::Inputs(first, step, n) => {
                let last = first as i128 + (n as i128 - 1) * step as i128;
                let limit = 1i128 << 40;
                if first as i128 >= limit || !(0..limit).contains(&last) {
                    return Err(format!(
                        "a remap run leaves the input (from {first} to {last})"
                    ));
                }
                map.extend((0..n as i64).map(|k| QPick::Input((first as i64 + k * step) as usize)));
            }
        }
    }
    Ok(map)
}

/// How a remap is written: its runs, or (files from before runs) its picks.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemapWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    map: Option<Vec<QPick>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    runs: Option<Vec<PickRun>>,
}

impl Serialize for QRemap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let wire = match self.listed {
            true => RemapWire {
                map: Some(self.map.clone()),
                runs: None,
            },
            false => RemapWire {
                map: None,
                runs: Some(pick_runs(&self.map)),
            },
        };
        wire.serialize(s)
    }
}

impl<'de> Deserialize<'de> for QRemap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match RemapWire::deserialize(d)? {
            RemapWire {
                map: Some(map),
                runs: None,
            } => Ok(QRemap { map, listed: true }),
            RemapWire {
                map: None,
                runs: Some(runs),
            } => Ok(QRemap::new(expand_runs(&runs).map_err(D::Error::custom)?)),
            _ => Err(D::Error::custom("a remap has either `map` or `runs`")),
        }
    }
}

impl OpRules for QRemap {
    fn name(&self) -> &'static str {
        "remap"
    }

    fn check(&self, cx: &CheckCx<'_>) -> Result<(), String> {
        let bad = self.map.iter().any(|p| match p {
            QPick::Input(i) => *i >= cx.len,
            QPick::Const(c) => c.unsigned_abs() >= 1 << 40,
        });
        if self.map.len() != cx.out || bad {
            return Err(cx.invalid("an invalid remap"));
        }
        Ok(())
    }

    fn eval(&self, _cx: &EvalCx<'_>, x: &[i64]) -> Result<Vec<i64>, EvalError> {
        Ok(self
            .map
            .iter()
            .map(|p| match p {
                QPick::Input(i) => x[*i],
                QPick::Const(c) => *c,
            })
            .collect())
    }

    /// No rows but one per distinct constant.
    fn min_rows(&self, _out: usize, _fused: bool) -> usize {
        0
    }

    /// The output slots: input slots, or one shared constant block per distinct value.
    fn lower(&self, cx: &mut LowerCx<'_>) -> Vec<usize> {
        let mut consts: BTreeMap<i64, usize> = BTreeMap::new();
        self.map
            .iter()
            .map(|p| match p {
                QPick::Input(i) => *i,
                QPick::Const(c) => *consts
                    .entry(*c)
                    .or_insert_with(|| cx.b.block(vec![], vec![vec![]], vec![*c], Tail::Pass)[0]),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(map: Vec<QPick>) -> usize {
        let remap = QRemap::new(map);
        let json = serde_json::to_string(&remap).unwrap();
        assert!(json.starts_with("{\"runs\":"), "{json}");
        let read: QRemap = serde_json::from_str(&json).unwrap();
        assert_eq!(read, remap, "{json}");
        pick_runs(&remap.map).len()
    }

    #[test]
    fn runs_give_back_every_map() {
        // A 2-channel 3x4 image, NHWC to NCHW, padded by one with -3: one run per row's inside.
        let (c, h, w) = (2usize, 3usize, 4usize);
        let mut padded = Vec::new();
        for ch in 0..c {
            for y in 0..h + 2 {
                for x in 0..w + 2 {
                    let inside = (1..=h).contains(&y) && (1..=w).contains(&x);
                    padded.push(match inside {
                        true => QPick::Input(((y - 1) * w + (x - 1)) * c + ch),
                        false => QPick::Const(-3),
                    });
                }
            }
        }
        // The pads between rows, and between the channels, are one run each.
        assert_eq!(round_trip(padded), 1 + 2 * h * c);
        assert_eq!(round_trip((0..10).rev().map(QPick::Input).collect()), 1);
        for map in [
            vec![],
            vec![QPick::Input(7)],
            vec![QPick::Const(5)],
            vec![
                QPick::Input(5),
                QPick::Input(9),
                QPick::Input(2),
                QPick::Const(0),
            ],
            vec![
                QPick::Input(1),
                QPick::Input(0),
                QPick::Input(0),
                QPick::Input(3),
            ],
        ] {
            round_trip(map);
        }
    }

    #[test]
    fn a_listed_remap_is_written_back_as_it_was_read() {
        let json = r#"{"map":[{"Input":0},{"Input":1},{"Const":3}]}"#;
        let read: QRemap = serde_json::from_str(json).unwrap();
        assert!(read.listed);
        assert_eq!(
            read.map,
            vec![QPick::Input(0), QPick::Input(1), QPick::Const(3)]
        );
        assert_eq!(serde_json::to_string(&read).unwrap(), json);
    }

    #[test]
    fn hostile_runs_are_refused_before_they_are_expanded() {
        for json in [
            r#"{"runs":[{"Const":[0,100000000000]}]}"#,
            r#"{"runs":[{"Inputs":[0,1,16777216]},{"Const":[0,1]}]}"#,
            r#"{"runs":[{"Inputs":[3,-2,3]}]}"#,
            r#"{"runs":[{"Inputs":[0,1099511627776,2]}]}"#,
            r#"{"runs":[{"Const":[1,0]}]}"#,
            r#"{"runs":[],"map":[]}"#,
            r#"{}"#,
            r#"{"runs":[],"extra":1}"#,
        ] {
            assert!(serde_json::from_str::<QRemap>(json).is_err(), "{json}");
        }
        let ok: QRemap = serde_json::from_str(r#"{"runs":[{"Inputs":[4,-2,3]}]}"#).unwrap();
        assert_eq!(
            ok.map,
            vec![QPick::Input(4), QPick::Input(2), QPick::Input(0)]
        );
    }
}
