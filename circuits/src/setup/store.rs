//! The prover's files: the SRS for each k, and proving keys, in the cache directory, written
//! atomically and checked before use (see [`super::srs`] and [`crate::keys`]).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use super::srs::ParamsSource;
use super::srs::{self, dev_params, Params, SrsError, SrsRef};

/// `$ZKINFER_CACHE_DIR`, else `$XDG_CACHE_HOME/zkinfer`, else `$HOME/.cache/zkinfer`; never a shared
/// directory such as /tmp, where others could plant files.
pub fn cache_dir() -> Result<PathBuf, SrsError> {
    let nonempty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("ZKINFER_CACHE_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = nonempty("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(d).join("zkinfer"));
    }
    if let Some(h) = nonempty("HOME") {
        return Ok(PathBuf::from(h).join(".cache").join("zkinfer"));
    }
    Err(SrsError::NoCacheDir)
}

/// The folder of one SRS's files: `srs/<name>-<id>` in the cache directory.
pub fn srs_dir(srs: &SrsRef) -> Result<PathBuf, SrsError> {
    Ok(cache_dir()?
        .join("srs")
        .join(format!("{}-{}", srs.name, srs.id())))
}

/// The file of an SRS's parameters for `2^k` rows.
pub fn params_path(srs: &SrsRef, k: u32) -> Result<PathBuf, SrsError> {
    Ok(srs_dir(srs)?.join(format!("k{k}.params")))
}

/// Create a directory (and its parents), readable and writable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Write `bytes` to `path` atomically (a temporary file in the same folder, then renamed), creating
/// the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temporary_in(path.parent().unwrap_or(Path::new(".")))?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file in `dir` (created, private), removed unless persisted: for a file written in a
/// stream and named when it is complete (see [`write_atomically`]).
pub fn temporary_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    create_private_dir(dir)?;
    tempfile::NamedTempFile::new_in(dir)
}

/// The parameters in `path`, checked against `srs` for `2^k` rows; `Ok(Err(why))` when the file is
/// not them.
fn read_checked(path: &Path, srs: &SrsRef, k: u32) -> Result<Result<Params, String>, SrsError> {
    let bytes = fs::read(path).map_err(|source| SrsError::Io {
        path: path.into(),
        source,
    })?;
    let params = match srs::params_from_bytes(&bytes) {
        Ok(p) => p,
        Err(e) => return Ok(Err(format!("it is not a parameters file ({e})"))),
    };
    let tau_g2 = srs.tau_g2()?;
    Ok(srs::check_params(&params, k, &tau_g2).map(|()| params))
}

/// The parameters of `srs` for `2^k` rows, from the cache directory: checked before use; the
/// development SRS is made (and cached) when missing or when its file fails the check.
pub fn load(srs: &SrsRef, k: u32) -> Result<(Params, ParamsSource), SrsError> {
    let path = params_path(srs, k)?;
    let source = if path.exists() {
        match read_checked(&path, srs, k)? {
            Ok(params) => return Ok((params, ParamsSource::Cache)),
            Err(why) if srs.is_dev() => ParamsSource::Rebuilt { why },
            Err(why) => {
                return Err(SrsError::Mismatch {
                    path,
                    name: srs.name.clone(),
                    why,
                })
            }
        }
    } else if srs.is_dev() {
        ParamsSource::Created
    } else {
        return Err(SrsError::Missing {
            name: srs.name.clone(),
            k,
        });
    };
    srs.tau_g2()?;
    let params = dev_params(k);
    write_atomically(&path, &srs::params_bytes(&params)).map_err(|source| SrsError::Io {
        path: path.clone(),
        source,
    })?;
    Ok((params, source))
}

/// The SRS imported on this machine (each folder of `srs/` in the cache directory whose `srs.json`
/// names the SRS the folder is filed under).
pub fn imported_srs() -> Result<Vec<SrsRef>, SrsError> {
    let dir = cache_dir()?.join("srs");
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
        let Ok(text) = fs::read_to_string(entry.path().join("srs.json")) else {
            continue;
        };
        if let Ok(r) = serde_json::from_str::<SrsRef>(&text) {
            if srs_dir(&r)? == entry.path() {
                found.push(r);
            }
        }
    }
    Ok(found)
}

/// The SRS named `name`: one zkinfer knows (pinned), or one imported on this machine.
pub fn find_srs(name: &str) -> Result<SrsRef, SrsError> {
    if let Some(known) = SrsRef::known(name) {
        return Ok(known);
    }
    imported_srs()?
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| SrsError::Unknown(name.into()))
}

/// The parameters a model's proofs are made with, loaded and checked: its SRS's file (KZG), or the
/// pinned IPA generators.
pub fn load_params(
    ps: &crate::artifacts::model_file::ProofSystem,
    k: u32,
) -> Result<(crate::proof::ProofParams, ParamsSource), SrsError> {
    use crate::proof::ProofParams;
    match &ps.srs {
        Some(srs) => load(srs, k).map(|(p, s)| (ProofParams::Kzg(p), s)),
        None => super::ipa::load(k).map(|(p, s)| (ProofParams::Ipa(p), s)),
    }
}

/// Where [`load_params`] caches what zkinfer derives itself (the development SRS, IPA generators),
/// and what it is; `None` for an imported SRS (never made here).
pub fn derived_params_path(
    ps: &crate::artifacts::model_file::ProofSystem,
    k: u32,
) -> Result<Option<(&'static str, PathBuf)>, SrsError> {
    Ok(match &ps.srs {
        Some(srs) if srs.is_dev() => Some(("the development SRS", params_path(srs, k)?)),
        Some(_) => None,
        None => Some(("the IPA parameters", super::ipa::params_path(k)?)),
    })
}
