//! The Armeria peer: `tests/interop/armeria`, a Maven project that builds one shaded
//! jar holding Armeria's interop client and server, both run with `java -jar`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::paths;
use super::process::{Program, flag};
use super::protos;
use super::provision::{self, step};

/// What to install when `java` or `mvn` is missing.
const INSTALL: &str = "install a JDK (17 or newer) and Maven: apt-get install default-jdk maven";

/// The jar's name, in Maven's build directory and in the cache.
const JAR: &str = "armeria-interop.jar";

/// The built Armeria peer.
#[derive(Clone, Debug)]
pub struct Armeria {
    /// The shaded jar, in the cache.
    jar: PathBuf,
}

impl Armeria {
    /// `client`: runs a comma-separated list of cases over `--transport=h2|h1`,
    /// printing PASS/FAIL.
    pub fn client(&self) -> Program {
        self.subcommand("client")
    }

    /// `server`: h1c and h2c on one port.
    pub fn server(&self) -> Program {
        self.subcommand("server")
    }

    fn subcommand(&self, name: &str) -> Program {
        Program::new("java").arg("-jar").arg(&self.jar).arg(name)
    }
}

/// Checks that Java runs, and builds the jar into `target/interop/armeria/` unless it
/// is there, built from the current pom, Java sources and protos.
pub fn provision() -> Result<Armeria, String> {
    // The cached jar needs a JVM too, so this is checked even when nothing is built.
    let mut java = Command::new("java");
    java.arg("-version");
    step(java, "armeria-java", &format!("java not found: {INSTALL}"))?;

    let dir = paths::interop_dir().join("armeria");
    let jar = dir.join(JAR);
    provision::ensure("armeria", &inputs()?, &[&jar], || build(&dir, &jar))?;
    Ok(Armeria { jar })
}

/// `tests/interop/armeria/`.
fn project_dir() -> PathBuf {
    paths::package_dir().join("armeria")
}

/// What the jar is built from: the pom (which pins every version), the Java sources
/// and the protos.
fn inputs() -> Result<String, String> {
    let project = project_dir();
    Ok(provision::input(&project.join("pom.xml"))?
        + &provision::input_tree(&project.join("src"))?
        + &protos::contents()?)
}

/// Builds the jar in `dir/build/` and moves it into place.
fn build(dir: &Path, jar: &Path) -> Result<(), String> {
    let build_dir = dir.join("build");
    // From scratch, so nothing an earlier build left (say, classes of a deleted source)
    // ends up in the jar.
    let _ = fs::remove_dir_all(&build_dir);
    let mut mvn = Command::new("mvn");
    mvn.args(["-B", "-q", "package"])
        .arg(flag("-DbuildDirectory", &build_dir))
        .arg(flag("-Dgrpc.proto.dir", protos::ROOT))
        .current_dir(project_dir());
    step(mvn, "armeria-maven", &format!("mvn not found: {INSTALL}"))?;
    // Not copied over the old jar: a JVM still running from it (in another test
    // process) reads classes from it lazily.
    provision::move_file(&build_dir.join(JAR), jar)
}
