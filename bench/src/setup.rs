//! Process setup shared by the server and the load generator, so that every
//! implementation runs under the same settings.

use std::io;

use tokio::runtime::Runtime;

/// A multi-threaded tokio runtime with `threads` workers, timers and I/O enabled.
///
/// The same builder serves every implementation; with `taskset` pinning each process to
/// one core, one worker per process is the default.
pub fn runtime(threads: usize) -> io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
}

/// Raises the soft limit on open files to the hard limit: the memory figure holds
/// 10,000 connections open on each side.
pub fn raise_open_files_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed in.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}
