//! Reading snarkjs `.ptau` files: the Powers of Tau over BN254 (`bn128`), the form in which the
//! Perpetual Powers of Tau and the Hermez ceremony files are published. The structured reference
//! string that KZG proofs need is the start of the file's `tauG1` section (`G1, τG1, τ²G1, …`) and the
//! first two points of its `tauG2` section (`G2, τG2`).
//!
//! Layout (all integers little-endian): `"ptau"`, a `u32` version (1), a `u32` section count, then
//! the sections, each a `u32` id, a `u64` size and its bytes. Section 1 (header): `n8` (`u32`, 32
//! for BN254), the base field's modulus `q` (`n8` bytes), `power` (`u32`: the file holds 2^power
//! powers) and the ceremony's power (`u32`). Section 2 (`tauG1`): `2^(power+1) - 1` G1 points;
//! section 3 (`tauG2`): `2^power` G2 points. A G1 point is `x ‖ y`, a G2 point
//! `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`, each coordinate `n8` bytes in Montgomery form (`a·2^256 mod q`),
//! little-endian. Other sections (alpha, beta, the contributions, and the Lagrange forms of a
//! "prepared" file) are skipped.
//!
//! This module reads the layout and hands out the points' bytes; it does no curve arithmetic.

use thiserror::Error;

/// Bytes per base-field element of BN254.
pub const N8: usize = 32;
/// Bytes of a G1 point (`x ‖ y`).
pub const G1_BYTES: usize = 2 * N8;
/// Bytes of a G2 point (`x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`).
pub const G2_BYTES: usize = 4 * N8;
/// BN254's base field modulus, big-endian hexadecimal.
pub const BN254_Q: &str = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
/// Largest power a file may declare (the published files stop at 28).
pub const MAX_POWER: u32 = 28;

const HEADER: u32 = 1;
const TAU_G1: u32 = 2;
const TAU_G2: u32 = 3;

/// Why bytes are not a usable `.ptau` file.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PtauError {
    /// The file does not start with `ptau`.
    #[error("not a snarkjs .ptau file (no \"ptau\" magic)")]
    NotPtau,
    /// A format version this reader does not know.
    #[error(".ptau format version {0}, this reader knows version 1")]
    Version(u32),
    /// The file ends inside a field or section.
    #[error(".ptau file truncated in {0}")]
    Truncated(&'static str),
    /// A section id appears twice.
    #[error(".ptau section {0} appears twice")]
    Duplicate(u32),
    /// A section the reference string needs is absent.
    #[error(".ptau section {0} is missing")]
    Missing(u32),
    /// The header names another curve than BN254.
    #[error(".ptau file is not over BN254: {0}")]
    Curve(String),
    /// A section's size does not match the header's power.
    #[error(".ptau section {section} is {got} bytes, {expected} expected for power {power}")]
    Size {
        /// The section id.
        section: u32,
        /// Its size in the file.
        got: u64,
        /// The size the header's power implies.
        expected: u64,
        /// The header's power.
        power: u32,
    },
    /// The file holds fewer powers than a circuit of size 2^k needs.
    #[error(".ptau file holds 2^{power} powers, a circuit with k = {k} needs 2^{k}")]
    TooSmall {
        /// The circuit size asked for.
        k: u32,
        /// The file's power.
        power: u32,
    },
}

/// One section of the file: its id, and where its bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section id (1 header, 2 tauG1, 3 tauG2, …).
    pub id: u32,
    /// Offset of its data in the file.
    pub offset: usize,
    /// Bytes of data.
    pub size: usize,
}

/// A parsed `.ptau` file, borrowing its bytes.
#[derive(Clone, Debug)]
pub struct Ptau<'a> {
    /// The file holds `2^power` powers of τ.
    pub power: u32,
    /// The power of the ceremony the file comes from (files are published truncated).
    pub ceremony_power: u32,
    /// Every section, in file order.
    pub sections: Vec<Section>,
    tau_g1: &'a [u8],
    tau_g2: &'a [u8],
}

/// A little reader over the file's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PtauError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or(PtauError::Truncated(what))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, PtauError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, PtauError> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

/// Big-endian hexadecimal of little-endian bytes.
fn be_hex(le: &[u8]) -> String {
    le.iter().rev().map(|b| format!("{b:02x}")).collect()
}

impl<'a> Ptau<'a> {
    /// Read the layout of `bytes`, checking the header and the sizes of the point sections.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PtauError> {
        let mut c = Cursor { bytes, at: 0 };
        if c.take(4, "the magic").map_err(|_| PtauError::NotPtau)? != b"ptau" {
            return Err(PtauError::NotPtau);
        }
        let version = c.u32("the version")?;
        if version != 1 {
            return Err(PtauError::Version(version));
        }
        let count = c.u32("the section count")?;
        let mut sections: Vec<Section> = Vec::new();
        for _ in 0..count {
            let id = c.u32("a section id")?;
            let size = usize::try_from(c.u64("a section size")?)
                .map_err(|_| PtauError::Truncated("a section"))?;
            if sections.iter().any(|s| s.id == id) {
                return Err(PtauError::Duplicate(id));
            }
            let offset = c.at;
            c.take(size, "a section")?;
            sections.push(Section { id, offset, size });
        }
        let data = |id| {
            sections
                .iter()
                .find(|s| s.id == id)
                .map(|s| &bytes[s.offset..s.offset + s.size])
                .ok_or(PtauError::Missing(id))
        };
        let mut h = Cursor {
            bytes: data(HEADER)?,
            at: 0,
        };
        let n8 = h.u32("the header")? as usize;
        if n8 != N8 {
            return Err(PtauError::Curve(format!("{n8}-byte field elements")));
        }
        let q = be_hex(h.take(N8, "the header")?);
        if q != BN254_Q {
            return Err(PtauError::Curve(format!("modulus 0x{q}")));
        }
        let power = h.u32("the header")?;
        let ceremony_power = h.u32("the header")?;
        if power > MAX_POWER {
            return Err(PtauError::Curve(format!("power {power} over {MAX_POWER}")));
        }
        let (tau_g1, tau_g2) = (data(TAU_G1)?, data(TAU_G2)?);
        let check = |section, got: &[u8], expected: u64| {
            if got.len() as u64 == expected {
                Ok(())
            } else {
                Err(PtauError::Size {
                    section,
                    got: got.len() as u64,
                    expected,
                    power,
                })
            }
        };
        check(TAU_G1, tau_g1, ((2u64 << power) - 1) * G1_BYTES as u64)?;
        check(TAU_G2, tau_g2, (1u64 << power) * G2_BYTES as u64)?;
        Ok(Ptau {
            power,
            ceremony_power,
            sections,
            tau_g1,
            tau_g2,
        })
    }

    /// Points in the `tauG1` section (`2^(power+1) - 1`).
    pub fn g1_count(&self) -> usize {
        self.tau_g1.len() / G1_BYTES
    }

    /// Points in the `tauG2` section (`2^power`).
    pub fn g2_count(&self) -> usize {
        self.tau_g2.len() / G2_BYTES
    }

    /// `τ^i · G1`, as the file stores it.
    pub fn g1(&self, i: usize) -> Option<&'a [u8]> {
        self.tau_g1.get(i * G1_BYTES..(i + 1) * G1_BYTES)
    }

    /// `τ^i · G2`, as the file stores it.
    pub fn g2(&self, i: usize) -> Option<&'a [u8]> {
        self.tau_g2.get(i * G2_BYTES..(i + 1) * G2_BYTES)
    }

    /// The first `2^k` points of `tauG1`: the G1 part of a KZG reference string for circuits of
    /// size 2^k (a smaller k's string is a prefix of a larger one's).
    pub fn g1_powers(&self, k: u32) -> Result<&'a [u8], PtauError> {
        if k > self.power {
            return Err(PtauError::TooSmall {
                k,
                power: self.power,
            });
        }
        Ok(&self.tau_g1[..(1usize << k) * G1_BYTES])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BN254's q, little-endian.
    fn q_le() -> Vec<u8> {
        (0..N8)
            .rev()
            .map(|i| u8::from_str_radix(&BN254_Q[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// A file of `power` with point bytes `i mod 251`, sections as given (id, data).
    fn file(sections: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut f = b"ptau".to_vec();
        f.extend(1u32.to_le_bytes());
        f.extend((sections.len() as u32).to_le_bytes());
        for (id, data) in sections {
            f.extend(id.to_le_bytes());
            f.extend((data.len() as u64).to_le_bytes());
            f.extend(data);
        }
        f
    }

    fn header(n8: u32, q: &[u8], power: u32) -> Vec<u8> {
        let mut h = n8.to_le_bytes().to_vec();
        h.extend(q);
        h.extend(power.to_le_bytes());
        h.extend(28u32.to_le_bytes());
        h
    }

    fn points(n: usize, bytes: usize) -> Vec<u8> {
        (0..n * bytes).map(|i| (i % 251) as u8).collect()
    }

    fn valid(power: u32) -> Vec<u8> {
        let g1 = (2usize << power) - 1;
        file(&[
            (HEADER, header(32, &q_le(), power)),
            (TAU_G1, points(g1, G1_BYTES)),
            (TAU_G2, points(1 << power, G2_BYTES)),
            (7, vec![9; 5]),
        ])
    }

    #[test]
    fn a_file_reads_and_hands_out_its_points() {
        let f = valid(3);
        let p = Ptau::parse(&f).unwrap();
        assert_eq!((p.power, p.ceremony_power), (3, 28));
        assert_eq!((p.g1_count(), p.g2_count()), (15, 8));
        assert_eq!(p.g1(1).unwrap(), &points(2, G1_BYTES)[G1_BYTES..]);
        assert!(p.g1(15).is_none() && p.g2(8).is_none());
        assert_eq!(p.g1_powers(2).unwrap().len(), 4 * G1_BYTES);
        assert_eq!(
            p.g1_powers(4).unwrap_err(),
            PtauError::TooSmall { k: 4, power: 3 }
        );
        let ids: Vec<u32> = p.sections.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2, 3, 7]);
    }

    #[test]
    fn malformed_files_are_refused_with_their_reason() {
        let f = valid(2);
        let refused = |b: &[u8]| Ptau::parse(b).unwrap_err();
        assert_eq!(refused(b"ptax"), PtauError::NotPtau);
        assert_eq!(refused(b"pt"), PtauError::NotPtau);
        let mut v2 = f.clone();
        v2[4] = 2;
        assert_eq!(refused(&v2), PtauError::Version(2));
        assert!(matches!(
            refused(&f[..f.len() - 1]),
            PtauError::Truncated(_)
        ));
        let mut other_q = q_le();
        other_q[0] ^= 1;
        let curve = file(&[(HEADER, header(32, &other_q, 2))]);
        assert!(matches!(refused(&curve), PtauError::Curve(_)));
        let dup = file(&[(HEADER, header(32, &q_le(), 2)), (HEADER, vec![])]);
        assert_eq!(refused(&dup), PtauError::Duplicate(1));
        let no_g2 = file(&[
            (HEADER, header(32, &q_le(), 2)),
            (TAU_G1, points(7, G1_BYTES)),
        ]);
        assert_eq!(refused(&no_g2), PtauError::Missing(3));
        let short = file(&[
            (HEADER, header(32, &q_le(), 2)),
            (TAU_G1, points(6, G1_BYTES)),
            (TAU_G2, points(4, G2_BYTES)),
        ]);
        assert!(matches!(
            refused(&short),
            PtauError::Size { section: 2, .. }
        ));
        // A section size past the end of the file (or past usize) is a truncation, not an allocation.
        let mut huge = file(&[(HEADER, header(32, &q_le(), 2))]);
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(refused(&huge), PtauError::Truncated(_)));
    }
}
