//! Memory a proof may use, read before proving so that a proof too large for the machine is refused
//! up front (exit 2) instead of dying half-way with an allocation failure.

/// The variable that sets the memory zkinfer counts as available (bytes, or with a K, M or G suffix),
/// in place of what the system reports: for a machine shared with other work, and for tests.
pub const MEMORY_VAR: &str = "ZKINFER_MEMORY_AVAILABLE";

/// Bytes available to this process: `ZKINFER_MEMORY_AVAILABLE` when set, else the least of the
/// system's available memory (`MemAvailable`), the cgroup's remaining limit (v2 `memory.max` less
/// `memory.current`, or v1 `memory.limit_in_bytes` less its usage) and the address-space limit. None
/// when nothing can be read (not Linux).
pub fn available_bytes() -> Result<Option<u64>, String> {
    if let Some(v) = std::env::var_os(MEMORY_VAR) {
        let v = v.to_string_lossy();
        return parse_size(&v).map(Some).ok_or_else(|| {
            format!("{MEMORY_VAR}={v}: expected bytes, or a number with K, M or G")
        });
    }
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let number = |s: Option<String>| s.and_then(|s| s.trim().parse::<u64>().ok());
    let meminfo = read("/proc/meminfo").and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    let cgroup_v2 = number(read("/sys/fs/cgroup/memory.max"))
        .map(|max| max.saturating_sub(number(read("/sys/fs/cgroup/memory.current")).unwrap_or(0)));
    let cgroup_v1 = number(read("/sys/fs/cgroup/memory/memory.limit_in_bytes")).map(|max| {
        max.saturating_sub(number(read("/sys/fs/cgroup/memory/memory.usage_in_bytes")).unwrap_or(0))
    });
    let address_space = read("/proc/self/limits").and_then(|l| {
        l.lines()
            .find_map(|l| l.strip_prefix("Max address space"))
            .and_then(|v| {
                v.split_whitespace()
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
            })
    });
    Ok([meminfo, cgroup_v2, cgroup_v1, address_space]
        .into_iter()
        .flatten()
        .min())
}

/// `123`, `512K`, `6G`, `1.5G` (powers of 1024).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (number, unit) = match s.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s, 'B'),
    };
    let scale = match unit {
        'B' => 1u64,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        _ => return None,
    };
    let n: f64 = number.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some((n * scale as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_their_units() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("512K"), Some(512 << 10));
        assert_eq!(parse_size("6g"), Some(6 << 30));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("6X"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size(""), None);
    }
}
