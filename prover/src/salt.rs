//! Salts of hashed inputs (a model compiled with `--input hashed --salt`): a secret field element that
//! the input's owner keeps beside the proof, one line of 64 hexadecimal digits in a file of its own.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::Fr;
use rand_core::RngCore;
use thiserror::Error;

use circuits::disclosure::hashing;

/// Why a salt file could not be read or written.
#[derive(Debug, Error)]
pub enum SaltError {
    /// The salt file could not be read.
    #[error("cannot read salt file {path}: {source}")]
    Read {
        /// Path of the salt file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The salt file is not 64 lowercase hexadecimal digits of a field element and a line ending.
    #[error("salt file {path}: {reason}")]
    Malformed {
        /// Path of the salt file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The salt file to write already exists (it is never overwritten).
    #[error(
        "salt file {0} exists already: give it with --salt-file to reuse its salt, or move it away \
         (a new salt would make the proofs it belongs to uncheckable by hash)"
    )]
    Exists(PathBuf),
    /// The salt file could not be written.
    #[error("cannot write salt file {path}: {source}")]
    Write {
        /// Path of the salt file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A fresh salt from the operating system's random source (248 bits).
pub fn new_salt() -> Fr {
    let mut bytes = [0u8; 31];
    rand_core::OsRng.fill_bytes(&mut bytes);
    hashing::salt_from_bytes(bytes)
}

/// Read a salt file: 64 lowercase hexadecimal digits, then at most a line ending.
pub fn read_salt(path: &Path) -> Result<Fr, SaltError> {
    let text = std::fs::read(path).map_err(|source| SaltError::Read {
        path: path.into(),
        source,
    })?;
    let malformed = |reason: String| SaltError::Malformed {
        path: path.into(),
        reason,
    };
    let text = std::str::from_utf8(&text).map_err(|e| malformed(e.to_string()))?;
    let line = text
        .strip_suffix('\n')
        .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
    hashing::from_hex(line).map_err(|e| malformed(e.to_string()))
}

/// Write `salt` to a new file at `path` (never over an existing one), readable by its owner only.
pub fn write_new_salt(path: &Path, salt: Fr) -> Result<(), SaltError> {
    if path.exists() {
        return Err(SaltError::Exists(path.into()));
    }
    let line = format!("{}\n", hashing::to_hex(salt));
    // The temp file is created with owner-only permissions, and the rename keeps them.
    crate::atomic::write_atomic(path, line.as_bytes()).map_err(|source| SaltError::Write {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_round_trip_and_are_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.salt");
        let salt = new_salt();
        assert_ne!(salt, new_salt());
        write_new_salt(&path, salt).unwrap();
        assert_eq!(read_salt(&path).unwrap(), salt);
        assert!(matches!(
            write_new_salt(&path, new_salt()),
            Err(SaltError::Exists(_))
        ));
        assert_eq!(read_salt(&path).unwrap(), salt, "the first salt is kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only: {mode:o}");
        }
        std::fs::write(&path, "0x1234\n").unwrap();
        assert!(matches!(read_salt(&path), Err(SaltError::Malformed { .. })));
    }
}
