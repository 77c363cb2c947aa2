//! The proving-key cache: `keys/<model digest>.pk` in the cache directory, each key beside a small
//! label (`<model digest>.json`: the model's name and k) so that a listing says what a file is.
//!
//! A key is pinned by the digest its model file carries, so any key can be removed: the next prove of
//! its model makes it again (key generation). Keys of large models take gigabytes, and every compile
//! of a changed model leaves the old key behind, so the cache is bounded: after a key is written the
//! least recently used others are removed until the cache is under its limit
//! (`ZKINFER_KEY_CACHE_GIB`, [`DEFAULT_LIMIT_GIB`] by default). A prove that reads a key marks it
//! used (its file's modification time).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// The cache's size limit when `ZKINFER_KEY_CACHE_GIB` is not set, in GiB.
pub const DEFAULT_LIMIT_GIB: f64 = 16.0;

/// The variable that sets the cache's size limit, in GiB (a number, `0` keeps only the key in use).
pub const LIMIT_VAR: &str = "ZKINFER_KEY_CACHE_GIB";

/// A temporary file this old is an unfinished write (a process that died while writing a key); a
/// younger one may be a key being written now, and is left alone.
pub const UNFINISHED_AFTER: Duration = Duration::from_secs(3600);

/// Why the cache could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum KeyCacheError {
    /// A file or folder of the cache.
    #[error("key cache {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `ZKINFER_KEY_CACHE_GIB` is not a non-negative number.
    #[error("{LIMIT_VAR}={value} is not a size in GiB (a non-negative number, such as 16 or 0.5)")]
    BadLimit {
        /// The variable's value.
        value: String,
    },
    /// Neither a model file nor a model digest.
    #[error("{0} is neither a model file nor a model digest (64 hex digits)")]
    NotAKey(String),
}

/// What a key is of, written beside it when it is cached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLabel {
    /// The model's name.
    pub model: String,
    /// The model circuit's k.
    pub k: u32,
}

/// One cached proving key.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedKey {
    /// The digest of the model the key is of.
    pub digest: String,
    /// The key's file.
    pub path: PathBuf,
    /// The file's size in bytes.
    pub bytes: u64,
    /// When a prove or compile last used or wrote it.
    pub last_used: SystemTime,
    /// What the key is of, where its label was written (keys cached before labels have none).
    pub label: Option<KeyLabel>,
}

/// What [`KeyCache::prune`] removed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pruned {
    /// The keys removed, least recently used first.
    pub removed: Vec<CachedKey>,
    /// Unfinished writes removed (temporary files older than [`UNFINISHED_AFTER`]) and their sizes.
    pub unfinished: Vec<(PathBuf, u64)>,
    /// The bytes of the keys left.
    pub kept_bytes: u64,
}

impl Pruned {
    /// The bytes freed.
    pub fn freed_bytes(&self) -> u64 {
        let keys: u64 = self.removed.iter().map(|k| k.bytes).sum();
        keys + self.unfinished.iter().map(|(_, b)| b).sum::<u64>()
    }
}

/// The cache's size limit in bytes: `ZKINFER_KEY_CACHE_GIB`, else [`DEFAULT_LIMIT_GIB`].
pub fn limit_bytes() -> Result<u64, KeyCacheError> {
    match std::env::var(LIMIT_VAR) {
        Ok(v) if !v.trim().is_empty() => gib_to_bytes(&v),
        _ => Ok((DEFAULT_LIMIT_GIB * GIB) as u64),
    }
}

const GIB: f64 = (1u64 << 30) as f64;

/// A size in GiB (`"16"`, `"0.5"`) in bytes.
pub fn gib_to_bytes(value: &str) -> Result<u64, KeyCacheError> {
    let bad = || KeyCacheError::BadLimit {
        value: value.into(),
    };
    let gib: f64 = value.trim().parse().map_err(|_| bad())?;
    if !gib.is_finite() || gib < 0.0 {
        return Err(bad());
    }
    Ok((gib * GIB) as u64)
}

/// Whether `s` is a model digest (64 lowercase hex digits), the stem of a key's file.
pub fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The folder of cached proving keys.
#[derive(Clone, Debug)]
pub struct KeyCache {
    dir: PathBuf,
}

impl KeyCache {
    /// The cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        KeyCache { dir: dir.into() }
    }

    /// The cache of this user (`keys` in the cache directory, see [`crate::prove::pk_dir`]).
    pub fn of_user() -> Result<Self, circuits::setup::srs::SrsError> {
        Ok(Self::at(crate::prove::pk_dir()?))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> KeyCacheError {
        let path = path.to_path_buf();
        move |source| KeyCacheError::Io { path, source }
    }

    /// The label file of a key.
    fn label_path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}.json"))
    }

    /// Write the label of the key of `digest` (best effort for callers: a key without a label is
    /// listed without its model's name).
    pub fn write_label(&self, digest: &str, label: &KeyLabel) -> Result<(), KeyCacheError> {
        let path = self.label_path(digest);
        let json = serde_json::to_vec(label).expect("a label serializes");
        circuits::setup::store::write_atomically(&path, &json).map_err(self.io(&path))
    }

    /// Mark the key of `digest` used now, so that pruning keeps it longer (best effort).
    pub fn touch(&self, digest: &str) {
        let path = self.dir.join(format!("{digest}.pk"));
        if let Ok(f) = fs::File::open(path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// The cached keys, the most recently used first. An absent folder is an empty cache.
    pub fn keys(&self) -> Result<Vec<CachedKey>, KeyCacheError> {
        let mut keys = Vec::new();
        for (path, meta) in self.files()? {
            let Some(digest) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".pk"))
                .filter(|d| is_digest(d))
            else {
                continue;
            };
            let label = fs::read(self.label_path(digest))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            keys.push(CachedKey {
                digest: digest.to_string(),
                bytes: meta.len(),
                last_used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                path,
                label,
            });
        }
        keys.sort_by(|a, b| b.last_used.cmp(&a.last_used).then(a.digest.cmp(&b.digest)));
        Ok(keys)
    }

    /// The plain files of the folder with their metadata (none when it does not exist).
    fn files(&self) -> Result<Vec<(PathBuf, fs::Metadata)>, KeyCacheError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&self.dir)(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(self.io(&self.dir))?;
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_file() {
                files.push((entry.path(), meta));
            }
        }
        Ok(files)
    }

    /// Temporary files (`.tmp…`, as a key is written before it is named) last written at least
    /// `age` ago, with their sizes.
    pub fn unfinished(&self, age: Duration) -> Result<Vec<(PathBuf, u64)>, KeyCacheError> {
        let now = SystemTime::now();
        let old = |m: &fs::Metadata| {
            m.modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|d| d >= age)
        };
        Ok(self
            .files()?
            .into_iter()
            .filter(|(p, m)| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with(".tmp") && old(m)
            })
            .map(|(p, m)| (p, m.len()))
            .collect())
    }

    /// Remove the key of `digest` and its label; the key removed, or `None` when none was cached.
    pub fn remove(&self, digest: &str) -> Result<Option<CachedKey>, KeyCacheError> {
        let Some(key) = self.keys()?.into_iter().find(|k| k.digest == digest) else {
            return Ok(None);
        };
        self.remove_key(&key)?;
        Ok(Some(key))
    }

    fn remove_key(&self, key: &CachedKey) -> Result<(), KeyCacheError> {
        remove_file_if_there(&key.path).map_err(self.io(&key.path))?;
        let label = self.label_path(&key.digest);
        remove_file_if_there(&label).map_err(self.io(&label))
    }

    /// Labels whose key is gone (removed by hand, say).
    fn orphan_labels(&self) -> Result<Vec<PathBuf>, KeyCacheError> {
        Ok(self
            .files()?
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.strip_suffix(".json")
                    .is_some_and(|d| is_digest(d) && !self.dir.join(format!("{d}.pk")).exists())
            })
            .collect())
    }

    /// Remove the least recently used keys until the rest take at most `max_bytes`, never the key
    /// of `keep` (the one in use), unfinished writes older than [`UNFINISHED_AFTER`], and labels
    /// whose key is gone.
    pub fn prune(&self, max_bytes: u64, keep: Option<&str>) -> Result<Pruned, KeyCacheError> {
        let mut pruned = Pruned::default();
        for (path, bytes) in self.unfinished(UNFINISHED_AFTER)? {
            remove_file_if_there(&path).map_err(self.io(&path))?;
            pruned.unfinished.push((path, bytes));
        }
        for path in self.orphan_labels()? {
            remove_file_if_there(&path).map_err(self.io(&path))?;
        }
        let keys = self.keys()?;
        let mut total: u64 = keys.iter().map(|k| k.bytes).sum();
        // Least recently used first.
        for key in keys.iter().rev() {
            if total <= max_bytes {
                break;
            }
            if Some(key.digest.as_str()) == keep {
                continue;
            }
            self.remove_key(key)?;
            total -= key.bytes;
            pruned.removed.push(key.clone());
        }
        pruned.kept_bytes = total;
        Ok(pruned)
    }
}

fn remove_file_if_there(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(i: u8) -> String {
        format!("{:02x}", i).repeat(32)
    }

    /// A cache with keys of 100, 200 and 300 bytes, used in that order (the last most recently).
    fn three_keys() -> (tempfile::TempDir, KeyCache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = KeyCache::at(dir.path().join("keys"));
        fs::create_dir_all(cache.dir()).unwrap();
        let start = SystemTime::now() - Duration::from_secs(1000);
        for i in 1..=3u8 {
            let path = cache.dir().join(format!("{}.pk", digest(i)));
            fs::write(&path, vec![0u8; 100 * i as usize]).unwrap();
            let f = fs::File::options().write(true).open(&path).unwrap();
            f.set_modified(start + Duration::from_secs(100 * i as u64))
                .unwrap();
            let label = KeyLabel {
                model: format!("m{i}"),
                k: 10 + i as u32,
            };
            cache.write_label(&digest(i), &label).unwrap();
        }
        (dir, cache)
    }

    #[test]
    fn keys_are_listed_most_recently_used_first_with_their_labels() {
        let (_dir, cache) = three_keys();
        fs::write(cache.dir().join("notes.txt"), b"not a key").unwrap();
        fs::write(cache.dir().join("abc.pk"), b"not a digest").unwrap();
        let keys = cache.keys().unwrap();
        let digests: Vec<_> = keys.iter().map(|k| k.digest.clone()).collect();
        assert_eq!(digests, [digest(3), digest(2), digest(1)]);
        assert_eq!(keys[0].bytes, 300);
        assert_eq!(keys[2].label.as_ref().unwrap().model, "m1");
        assert!(KeyCache::at("/nonexistent/zkinfer-keys")
            .keys()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn prune_removes_the_least_recently_used_until_under_the_limit() {
        let (_dir, cache) = three_keys();
        // 600 bytes over a 450-byte limit: the oldest (100) is not enough, the next (200) is.
        let pruned = cache.prune(450, None).unwrap();
        let removed: Vec<_> = pruned.removed.iter().map(|k| k.digest.clone()).collect();
        assert_eq!(removed, [digest(1), digest(2)]);
        assert_eq!((pruned.kept_bytes, pruned.freed_bytes()), (300, 300));
        assert!(!cache.label_path(&digest(1)).exists(), "labels go too");
        assert_eq!(cache.keys().unwrap().len(), 1);
        // Under the limit: nothing removed.
        assert!(cache.prune(300, None).unwrap().removed.is_empty());
    }

    #[test]
    fn prune_keeps_the_key_in_use_and_touch_makes_a_key_recent() {
        let (_dir, cache) = three_keys();
        cache.touch(&digest(1));
        assert_eq!(cache.keys().unwrap()[0].digest, digest(1));
        let pruned = cache.prune(0, Some(&digest(2))).unwrap();
        let removed: Vec<_> = pruned.removed.iter().map(|k| k.digest.clone()).collect();
        assert_eq!(
            removed,
            [digest(3), digest(1)],
            "least recent first, the kept one skipped"
        );
        assert_eq!(pruned.kept_bytes, 200);
    }

    #[test]
    fn prune_removes_old_unfinished_writes_and_orphan_labels_only() {
        let (_dir, cache) = three_keys();
        let old = cache.dir().join(".tmpOLD123");
        let young = cache.dir().join(".tmpNEW456");
        fs::write(&old, vec![0u8; 50]).unwrap();
        fs::write(&young, vec![0u8; 70]).unwrap();
        let f = fs::File::options().write(true).open(&old).unwrap();
        f.set_modified(SystemTime::now() - UNFINISHED_AFTER - Duration::from_secs(5))
            .unwrap();
        let pruned = cache.prune(u64::MAX, None).unwrap();
        assert_eq!(pruned.unfinished, [(old.clone(), 50)]);
        assert!(pruned.removed.is_empty());
        assert!(!old.exists() && young.exists());
        // A label whose key was removed by hand goes too; the others stay.
        fs::remove_file(cache.dir().join(format!("{}.pk", digest(1)))).unwrap();
        cache.prune(u64::MAX, None).unwrap();
        assert!(!cache.label_path(&digest(1)).exists());
        assert!(cache.label_path(&digest(2)).exists());
    }

    #[test]
    fn remove_names_what_it_removed() {
        let (_dir, cache) = three_keys();
        let key = cache.remove(&digest(2)).unwrap().expect("cached");
        assert_eq!((key.bytes, key.label.unwrap().k), (200, 12));
        assert_eq!(cache.remove(&digest(2)).unwrap(), None);
        assert_eq!(cache.keys().unwrap().len(), 2);
    }

    #[test]
    fn limits_and_digests_are_read_strictly() {
        assert_eq!(gib_to_bytes("1").unwrap(), 1 << 30);
        assert_eq!(gib_to_bytes(" 0.5 ").unwrap(), 1 << 29);
        assert_eq!(gib_to_bytes("0").unwrap(), 0);
        for bad in ["-1", "lots", "inf", "NaN", ""] {
            assert!(
                matches!(gib_to_bytes(bad), Err(KeyCacheError::BadLimit { .. })),
                "{bad}"
            );
        }
        assert!(is_digest(&digest(0xab)));
        assert!(!is_digest(&digest(0xab).to_uppercase()));
        assert!(!is_digest("abc"));
    }
}
