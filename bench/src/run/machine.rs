//! What the results were measured on and with.

use std::path::Path;
use std::process::Command;

/// Facts about the machine and the software versions.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// CPUs available.
    pub cpus: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// Kernel release.
    pub kernel: String,
    /// `rustc -V`.
    pub rustc: String,
    /// rsrpc's git revision, with `-dirty` if the tree has changes.
    pub rsrpc_rev: String,
    /// Locked versions of the crates that matter, `name version`.
    pub crates: Vec<String>,
    /// The soft limit on open files the benchmarks run with.
    pub open_files: Option<u64>,
    /// `h2load --version`, or "not installed".
    pub h2load: String,
}

/// Crates whose locked versions the results name.
const CRATES: [&str; 9] = [
    "tonic",
    "tonic-prost",
    "connectrpc",
    "buffa",
    "hyper",
    "h2",
    "tokio",
    "prost",
    "bytes",
];

impl Machine {
    /// Looks everything up, h2load at `h2load`; what cannot be found reads "unknown".
    pub fn probe(root: &Path, open_files: Option<u64>, h2load: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
        let dirty = !output(
            Command::new("git")
                .args(["status", "--porcelain"])
                .current_dir(root),
        )
        .is_empty();
        let rev = output(
            Command::new("git")
                .args(["rev-parse", "--short", "HEAD"])
                .current_dir(root),
        );
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: cpuinfo
                .lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split(':').nth(1))
                .map_or_else(|| "unknown".to_owned(), |model| model.trim().to_owned()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |kernel| kernel.trim().to_owned()),
            rustc: output(Command::new("rustc").arg("-V")),
            rsrpc_rev: if dirty { format!("{rev}-dirty") } else { rev },
            crates: CRATES
                .iter()
                .map(|name| format!("{name} {}", locked_version(&lock, name).unwrap_or("?")))
                .collect(),
            open_files,
            h2load: Command::new(h2load)
                .arg("--version")
                .output()
                .ok()
                .filter(|output| output.status.success())
                .and_then(|output| {
                    let stdout = String::from_utf8_lossy(&output.stdout);
                    stdout.lines().next().map(str::to_owned)
                })
                .unwrap_or_else(|| "not installed".to_owned()),
        }
    }
}

/// A command's trimmed stdout, or "unknown".
fn output(command: &mut Command) -> String {
    command
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The version of `name` in a Cargo.lock (the first, if several are locked).
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let entry = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&entry)? + entry.len();
    let rest = &lock[start..];
    Some(&rest[..rest.find('"')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_locked_versions() {
        let lock = "[[package]]\nname = \"tonic-prost\"\nversion = \"0.14.5\"\n\n\
                    [[package]]\nname = \"tonic\"\nversion = \"0.14.4\"\n";
        assert_eq!(locked_version(lock, "tonic"), Some("0.14.4"));
        assert_eq!(locked_version(lock, "tonic-prost"), Some("0.14.5"));
        assert_eq!(locked_version(lock, "h2"), None);
    }
}
