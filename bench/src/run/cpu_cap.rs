//! Capping the server's CPU with a cgroup quota, so that the server, not the load
//! generator, is what limits throughput.
//!
//! On two cores the raw load generator costs about as much per call as a hyper-based
//! server, so both saturate together and every server ends up using a whole core,
//! taking smaller batches until its CPU per call matches the load's. With the server
//! held to half a core, the load generator has headroom and CPU per call shows the
//! server's own cost.

use std::io;
use std::path::{Path, PathBuf};

/// Name of the cgroup this creates.
const NAME: &str = "rsrpc-bench-server";
/// Scheduler period of the quota: short, so throttling adds little latency.
const PERIOD_US: u64 = 10_000;

/// A cgroup whose processes share at most a fraction of one CPU. Removed when dropped
/// (once empty).
#[derive(Debug)]
pub struct CpuCap {
    dir: PathBuf,
    quota_us: u64,
}

impl CpuCap {
    /// Creates the cgroup with cgroup v1's `cpu` controller, or else v2's; fails if
    /// neither is mounted writable (not root, or a container without cgroups).
    pub fn create(share: f64) -> io::Result<CpuCap> {
        let quota = (PERIOD_US as f64 * share).round() as u64;
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        let dir = if v1.join("cpu.cfs_quota_us").exists() {
            let dir = v1.join(NAME);
            make_dir(&dir)?;
            std::fs::write(dir.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
            std::fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string())?;
            dir
        } else {
            let dir = Path::new("/sys/fs/cgroup").join(NAME);
            make_dir(&dir)?;
            std::fs::write(dir.join("cpu.max"), format!("{quota} {PERIOD_US}"))?;
            dir
        };
        Ok(CpuCap {
            dir,
            quota_us: quota,
        })
    }

    /// The cgroup's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The quota, in words.
    pub fn quota(&self) -> String {
        format!("{} µs of CPU per {PERIOD_US} µs", self.quota_us)
    }

    /// Moves process `pid` into the cgroup.
    pub fn place(&self, pid: u32) -> io::Result<()> {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
    }
}

impl Drop for CpuCap {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn make_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => Err(error),
        _ => Ok(()),
    }
}
