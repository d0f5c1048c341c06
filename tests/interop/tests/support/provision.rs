//! Building peers once into the cache, safely across concurrent test threads and
//! processes: each artifact has a lock file and a stamp recording what it was built
//! from, and is rebuilt only when the stamp is stale or an output is missing.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::paths;
use super::process;

/// Timeout of one provisioning step: a cold grpc-go build or pip install is minutes.
const STEP_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Makes sure the artifact `name` is built from `inputs` (the contents it depends on)
/// and that all `outputs` exist, running `build` under the artifact's lock otherwise.
pub fn ensure(
    name: &str,
    inputs: &str,
    outputs: &[&Path],
    build: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let dir = paths::interop_dir().join("stamps");
    fs::create_dir_all(&dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
    let _lock = lock(&dir.join(format!("{name}.lock")))?;
    let stamp = dir.join(format!("{name}.stamp"));
    let current = fs::read_to_string(&stamp).is_ok_and(|built_from| built_from == inputs)
        && outputs.iter().all(|output| output.exists());
    if current {
        return Ok(());
    }
    // Drop the stamp first so an interrupted build is redone next time.
    let _ = fs::remove_file(&stamp);
    build().map_err(|err| format!("provisioning {name} failed: {err}"))?;
    if let Some(missing) = outputs.iter().find(|output| !output.exists()) {
        return Err(format!(
            "provisioning {name} did not produce {}",
            missing.display()
        ));
    }
    fs::write(&stamp, inputs).map_err(|err| format!("writing {}: {err}", stamp.display()))
}

/// Takes an exclusive lock on `path`, held until the returned file is dropped. The
/// lock is per open file, so it excludes other threads of this process too.
#[expect(
    clippy::incompatible_msrv,
    reason = "the workspace MSRV is 1.85; only this test suite needs File::lock (1.89)"
)]
pub fn lock(path: &Path) -> Result<File, String> {
    let file = File::create(path).map_err(|err| format!("opening {}: {err}", path.display()))?;
    file.lock()
        .map_err(|err| format!("locking {}: {err}", path.display()))?;
    Ok(file)
}

/// Runs one provisioning step, logging to `logs/provision-<log_name>.log`. A missing
/// program fails with `not_found` (which says what to install); a failed run with the
/// step's output.
pub fn step(command: Command, log_name: &str, not_found: &str) -> Result<String, String> {
    let logs = paths::logs_dir();
    fs::create_dir_all(&logs).map_err(|err| format!("creating {}: {err}", logs.display()))?;
    let log = logs.join(format!("provision-{log_name}.log"));
    let shown = format!("{command:?}");
    let finished = match process::run(command, &log, STEP_TIMEOUT) {
        Ok(finished) => finished,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(not_found.to_owned());
        }
        Err(err) => return Err(format!("{shown}: {err}")),
    };
    if !finished.exit.success() {
        return Err(format!("{shown} {}:\n{}", finished.exit, finished.output));
    }
    Ok(finished.output)
}

/// Reads a file an artifact depends on, for its stamp.
pub fn input(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("reading {}: {err}", path.display()))
}

/// Reads every file under `dir`, for the stamp of an artifact built from a source tree:
/// each file's path (relative to `dir`) and contents, in path order, so that an added,
/// removed, renamed or edited file changes the result.
pub fn input_tree(dir: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    list_files(dir, &mut files)?;
    files.sort();
    let mut all = String::new();
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        let _ = write!(all, "\n--- {}\n{}", relative.display(), input(&file)?);
    }
    Ok(all)
}

/// Appends the paths of the files under `dir`, recursively, to `files`.
fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|err| format!("reading {}: {err}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|err| format!("reading {}: {err}", dir.display()))?
            .path();
        if path.is_dir() {
            list_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Moves a freshly built output into place. A rename, so a program still running
/// from the old file keeps reading it instead of a half-written new one.
pub fn move_file(from: &Path, to: &Path) -> Result<(), String> {
    fs::rename(from, to)
        .map_err(|err| format!("moving {} to {}: {err}", from.display(), to.display()))
}
