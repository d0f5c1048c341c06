//! What `/proc` tells about a process: CPU time used and memory resident.

use std::io;

/// A process id, or `self` for the calling process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    /// The calling process.
    This,
    /// Another process.
    Other(u32),
}

impl Pid {
    /// The path of `file` under this process's /proc directory.
    fn path(self, file: &str) -> String {
        match self {
            Pid::This => format!("/proc/self/{file}"),
            Pid::Other(pid) => format!("/proc/{pid}/{file}"),
        }
    }
}

/// User plus system CPU time the process (all its threads) has used, in microseconds.
pub fn cpu_micros(pid: Pid) -> io::Result<f64> {
    let stat = std::fs::read_to_string(pid.path("stat"))?;
    let ticks = cpu_ticks(&stat).ok_or_else(|| io::Error::other("malformed /proc stat"))?;
    Ok(ticks as f64 * 1e6 / clock_ticks_per_second())
}

/// `utime + stime` from a `/proc/<pid>/stat` line.
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: count fields
    // from the last ')'. utime and stime are fields 14 and 15.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `sysconf(_SC_CLK_TCK)`: the unit of the times in `/proc/<pid>/stat`.
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident since the process started (`VmHWM`).
    pub peak_kib: u64,
}

/// The process's resident memory now and at its peak.
pub fn memory(pid: Pid) -> io::Result<Memory> {
    let status = std::fs::read_to_string(pid.path("status"))?;
    parse_memory(&status).ok_or_else(|| io::Error::other("no VmRSS/VmHWM in /proc status"))
}

/// `VmRSS` and `VmHWM` from a /proc status file.
fn parse_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_past_a_name_with_spaces() {
        let stat = "42 (bench (x) y) S 1 42 42 0 -1 4194304 100 0 0 0 37 5 0 0 20 0 2 0";
        assert_eq!(cpu_ticks(stat), Some(42));
    }

    #[test]
    fn reads_memory_fields() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(
            parse_memory(status),
            Some(Memory {
                rss_kib: 1024,
                peak_kib: 2048
            })
        );
    }

    #[test]
    fn reads_own_process() {
        assert!(cpu_micros(Pid::This).is_ok());
        assert!(memory(Pid::This).unwrap().rss_kib > 0);
    }
}
