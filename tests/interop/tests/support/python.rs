//! The Python grpcio peer: a venv with `tests/interop/python/requirements.txt`
//! installed, the `grpc.testing` stubs generated into `python-gen`, and the scripts
//! `interop_client.py` and `interop_server.py`, which find the stubs through
//! `INTEROP_PYTHON_GEN`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::paths;
use super::process::{Program, flag};
use super::protos;
use super::provision::{self, step};

/// What to do when `python3` is missing.
const PYTHON_NOT_FOUND: &str = "python3 not found: install Python 3 with venv and pip \
     (https://www.python.org/downloads or apt-get install python3 python3-venv)";

/// What to do when the venv's interpreter cannot be started.
const VENV_BROKEN: &str =
    "the venv's python cannot be started: install python3-venv, then delete target/interop/venv";

/// The environment variable naming the stubs directory for the scripts.
const GEN_ENV: &str = "INTEROP_PYTHON_GEN";

/// A provisioned Python peer.
#[derive(Clone, Debug)]
pub struct Python {
    /// The venv's interpreter.
    interpreter: PathBuf,
    /// The generated stubs.
    gen_dir: PathBuf,
}

impl Python {
    /// `interop_client.py`: runs a comma-separated list of cases, printing PASS/FAIL.
    pub fn client(&self) -> Program {
        self.script("interop_client.py")
    }

    /// `interop_server.py`.
    pub fn server(&self) -> Program {
        self.script("interop_server.py")
    }

    fn script(&self, name: &str) -> Program {
        Program::new(&self.interpreter)
            .arg(scripts_dir().join(name))
            .env(GEN_ENV, &self.gen_dir)
    }
}

/// Creates the venv (again when `requirements.txt` changes) and generates the stubs
/// (again when the requirements or the protos change).
pub fn provision() -> Result<Python, String> {
    for script in ["interop_client.py", "interop_server.py"] {
        let path = scripts_dir().join(script);
        if !path.is_file() {
            return Err(format!(
                "the Python peer is incomplete: {} is missing",
                path.display()
            ));
        }
    }
    let requirements_file = scripts_dir().join("requirements.txt");
    let requirements = provision::input(&requirements_file)?;
    let venv = paths::interop_dir().join("venv");
    let interpreter = venv.join("bin/python");
    provision::ensure("python-venv", &requirements, &[&interpreter], || {
        create_venv(&venv, &interpreter, &requirements_file)
    })?;

    let gen_dir = paths::interop_dir().join("python-gen");
    let stub = gen_dir.join("grpc/testing/test_pb2_grpc.py");
    let gen_inputs = requirements + &protos::contents()?;
    provision::ensure("python-gen", &gen_inputs, &[&stub], || {
        generate_stubs(&interpreter, &gen_dir)
    })?;
    Ok(Python {
        interpreter,
        gen_dir,
    })
}

/// `tests/interop/python/`.
fn scripts_dir() -> PathBuf {
    paths::package_dir().join("python")
}

fn create_venv(venv: &Path, interpreter: &Path, requirements: &Path) -> Result<(), String> {
    let mut create = Command::new("python3");
    create.args(["-m", "venv", "--clear"]).arg(venv);
    step(create, "python-venv", PYTHON_NOT_FOUND)?;
    let mut install = Command::new(interpreter);
    install
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
        ])
        .arg(requirements);
    step(install, "python-pip", VENV_BROKEN)?;
    Ok(())
}

fn generate_stubs(interpreter: &Path, gen_dir: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(gen_dir);
    fs::create_dir_all(gen_dir).map_err(|err| format!("creating {}: {err}", gen_dir.display()))?;
    let mut protoc = Command::new(interpreter);
    protoc
        .args(["-m", "grpc_tools.protoc", &format!("-I{}", protos::ROOT)])
        .arg(flag("--python_out", gen_dir))
        .arg(flag("--grpc_python_out", gen_dir))
        .args(protos::FILES);
    step(protoc, "python-stubs", VENV_BROKEN)?;
    Ok(())
}
