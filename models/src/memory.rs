//! How much memory this process may use, for guards that refuse work the
//! machine cannot hold (lowering a huge model, key generation, proving) with an
//! estimate, instead of being killed by the kernel half-way.

/// Environment variable that sets the memory available to zkinfer, in MiB
/// (overrides what the system reports).
pub const MEMORY_LIMIT_ENV: &str = "ZKINFER_MEMORY_LIMIT_MIB";

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Memory available to this process: `$ZKINFER_MEMORY_LIMIT_MIB` if set, else the
/// smaller of Linux's `MemAvailable` and the control group's remaining allowance
/// (containers), if known.
pub fn available_bytes() -> Option<u64> {
    if let Some(mib) = std::env::var(MEMORY_LIMIT_ENV).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(mib * 1024 * 1024);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let system = meminfo.as_deref().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    let cgroup = match (read_u64("/sys/fs/cgroup/memory.max"), read_u64("/sys/fs/cgroup/memory.current")) {
        (Some(max), Some(current)) => Some(max.saturating_sub(current)),
        _ => match (
            read_u64("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
            read_u64("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
        ) {
            (Some(max), Some(current)) => Some(max.saturating_sub(current)),
            _ => None,
        },
    };
    match (system, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A size for messages: MiB below a GiB, GiB above.
pub fn size(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib < 1024.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{:.1} GiB", mib / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_the_unit_that_fits() {
        assert_eq!(size(300 << 20), "300 MiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
    }
}
