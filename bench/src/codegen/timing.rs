//! Timing a child process: wall time and the CPU time of it and its descendants.

use std::process::Command;
use std::time::Instant;

/// How long a command took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// User + system CPU seconds of the command and every process it waited for.
    pub cpu_s: f64,
}

/// Runs `command` to completion; fails with its stderr's end if it exits non-zero.
///
/// CPU time comes from `getrusage(RUSAGE_CHILDREN)`, which grows by a child's usage
/// when it is waited for, so no other child may end while this runs.
pub fn timed(command: &mut Command) -> Result<Timing, String> {
    let cpu_before = children_cpu_s();
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    let wall_s = started.elapsed().as_secs_f64();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{:?} failed ({}):\n{}",
            command.get_program(),
            output.status,
            tail.join("\n")
        ));
    }
    Ok(Timing {
        wall_s,
        cpu_s: children_cpu_s() - cpu_before,
    })
}

/// CPU seconds of every child waited for so far.
fn children_cpu_s() -> f64 {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_a_command_and_reports_failure() {
        let timing = timed(&mut Command::new("true")).unwrap();
        assert!(timing.wall_s >= 0.0 && timing.cpu_s >= 0.0);
        assert!(timed(&mut Command::new("false")).is_err());
    }
}
