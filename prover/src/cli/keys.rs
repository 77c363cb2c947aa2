//! `zkinfer keys`: the cached proving keys: list them, remove some, prune the cache to a size; and
//! the cache's limit, kept after every key `compile` or `prove` writes.

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Result;
use serde_json::json;

use prover::key_cache::{self, CachedKey, KeyCache, KeyCacheError, Pruned};

use super::print_json;

/// Bytes in binary units, as the limit is set (GiB).
fn fmt_bytes(b: u64) -> String {
    let f = b as f64;
    match b {
        b if b >= 1 << 30 => format!("{:.2} GiB", f / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", f / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", f / 1024.0),
        b => format!("{b} B"),
    }
}

/// `n` and a noun, plural unless `n` is 1.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// How long ago a time was, coarsely ("5 min ago").
fn ago(t: SystemTime) -> String {
    let s = SystemTime::now()
        .duration_since(t)
        .map_or(0, |d| d.as_secs());
    match s {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

fn key_json(k: &CachedKey) -> serde_json::Value {
    let unix = k
        .last_used
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({
        "model_digest": k.digest, "file": k.path, "bytes": k.bytes, "last_used_unix": unix,
        "model": k.label.as_ref().map(|l| &l.model), "k": k.label.as_ref().map(|l| l.k),
    })
}

fn key_line(k: &CachedKey) -> String {
    let (model, kk) = match &k.label {
        Some(l) => (l.model.as_str(), l.k.to_string()),
        None => ("?", "?".into()),
    };
    format!(
        "  {}  {:<24} {:>3} {:>10}  {}",
        &k.digest[..16],
        model,
        kk,
        fmt_bytes(k.bytes),
        ago(k.last_used)
    )
}

/// The limit's line: its size and where it comes from.
fn limit_line(limit: u64) -> String {
    let from = match std::env::var(key_cache::LIMIT_VAR) {
        Ok(v) if !v.trim().is_empty() => format!("{}={v}", key_cache::LIMIT_VAR),
        _ => format!("the default; set {} to change it", key_cache::LIMIT_VAR),
    };
    format!("limit {} ({from})", fmt_bytes(limit))
}

/// `zkinfer keys list`.
pub fn list(json_out: bool) -> Result<ExitCode> {
    let cache = KeyCache::of_user()?;
    let limit = key_cache::limit_bytes()?;
    let keys = cache.keys()?;
    let total: u64 = keys.iter().map(|k| k.bytes).sum();
    if json_out {
        let keys: Vec<_> = keys.iter().map(key_json).collect();
        print_json(&json!({
            "folder": cache.dir(), "keys": keys, "total_bytes": total, "limit_bytes": limit,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "proving keys in {}; {}",
        cache.dir().display(),
        limit_line(limit)
    );
    if keys.is_empty() {
        println!(
            "  none: `zkinfer compile` or the first `zkinfer prove` of a model caches its key"
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "  {:<16}  {:<24} {:>3} {:>10}  last used",
        "model digest", "model", "k", "size"
    );
    for k in &keys {
        println!("{}", key_line(k));
    }
    println!("{}, {}", count(keys.len(), "key"), fmt_bytes(total));
    Ok(ExitCode::SUCCESS)
}

/// The model digest a `keys remove` argument names: a model file's, or the digest itself.
fn digest_of(arg: &str) -> Result<String> {
    if key_cache::is_digest(arg) {
        return Ok(arg.to_string());
    }
    if Path::new(arg).is_file() {
        return Ok(super::read_model(Path::new(arg))?.digest);
    }
    Err(KeyCacheError::NotAKey(arg.to_string()).into())
}

/// `zkinfer keys remove MODEL_OR_DIGEST...`: every argument is checked before anything is removed.
pub fn remove(args: &[String], json_out: bool) -> Result<ExitCode> {
    let cache = KeyCache::of_user()?;
    let digests = args
        .iter()
        .map(|a| digest_of(a))
        .collect::<Result<Vec<_>>>()?;
    let mut removed = Vec::new();
    for d in &digests {
        match cache.remove(d)? {
            Some(k) => {
                if !json_out {
                    println!("removed {}", key_line(&k).trim_start());
                }
                removed.push(key_json(&k));
            }
            None if !json_out => println!("no key cached for model digest {d}"),
            None => {}
        }
    }
    if json_out {
        print_json(&json!({ "removed": removed }));
    }
    Ok(ExitCode::SUCCESS)
}

/// `zkinfer keys prune [--max-gib N]`.
pub fn prune(max_gib: Option<&str>, json_out: bool) -> Result<ExitCode> {
    let cache = KeyCache::of_user()?;
    let limit = match max_gib {
        Some(v) => key_cache::gib_to_bytes(v)?,
        None => key_cache::limit_bytes()?,
    };
    let pruned = cache.prune(limit, None)?;
    if json_out {
        print_json(&pruned_json(&pruned));
    } else {
        print_pruned(&pruned);
        println!(
            "the cache holds {} (at most {})",
            fmt_bytes(pruned.kept_bytes),
            fmt_bytes(limit)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn pruned_json(p: &Pruned) -> serde_json::Value {
    let removed: Vec<_> = p.removed.iter().map(key_json).collect();
    let unfinished: Vec<_> = p.unfinished.iter().map(|(f, _)| f).collect();
    json!({
        "removed": removed, "unfinished_removed": unfinished, "freed_bytes": p.freed_bytes(),
        "kept_bytes": p.kept_bytes,
    })
}

fn print_pruned(p: &Pruned) {
    for k in &p.removed {
        println!("removed {}", key_line(k).trim_start());
    }
    if !p.unfinished.is_empty() {
        let bytes: u64 = p.unfinished.iter().map(|(_, b)| b).sum();
        println!(
            "removed {} ({})",
            count(p.unfinished.len(), "unfinished key write"),
            fmt_bytes(bytes)
        );
    }
}

/// The cache's limit, kept after `compile` or `prove` wrote the key of `digest` (which stays): the
/// least recently used other keys go, said on stderr (stdout may be JSON). Best effort: a cache
/// that cannot be pruned leaves the command's result as it is, with a warning.
pub fn keep_limit(digest: &str, limit: u64) {
    let pruned = KeyCache::of_user()
        .map_err(|e| e.to_string())
        .and_then(|c| c.prune(limit, Some(digest)).map_err(|e| e.to_string()));
    match pruned {
        Ok(p) if p.freed_bytes() > 0 => eprintln!(
            "key cache: removed {} and {} ({}) to keep within its {} (`zkinfer keys list`)",
            count(p.removed.len(), "least recently used proving key"),
            count(p.unfinished.len(), "unfinished write"),
            fmt_bytes(p.freed_bytes()),
            limit_line(limit)
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: key cache not pruned: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_as_a_person_says_them() {
        assert_eq!(fmt_bytes(999), "999 B");
        assert_eq!(fmt_bytes(1_536), "1.5 KiB");
        assert_eq!(fmt_bytes(3 << 19), "1.5 MiB");
        assert_eq!(fmt_bytes(16 << 30), "16.00 GiB");
        assert_eq!(
            (count(1, "key"), count(2, "key")),
            ("1 key".into(), "2 keys".into())
        );
        let now = SystemTime::now();
        assert_eq!(ago(now), "just now");
        assert_eq!(ago(now - std::time::Duration::from_secs(7200)), "2 h ago");
        assert_eq!(ago(now + std::time::Duration::from_secs(60)), "just now");
    }
}
