//! A baseline: the IDs of the h2spec cases a server passed, one a line, read from a
//! file in `tests/interop/h2spec/`. Lines starting with `#` say where it came from.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The case IDs in the baseline file at `path`, e.g. `http2/6.5.3/2`. Fails on a
/// file that lists none, lists one twice, or holds a line that is not an ID.
pub fn load(path: &Path) -> Result<BTreeSet<String>, String> {
    let text =
        fs::read_to_string(path).map_err(|err| format!("reading {}: {err}", path.display()))?;
    let mut ids = BTreeSet::new();
    let lines = text.lines().map(str::trim);
    for line in lines.filter(|line| !line.is_empty() && !line.starts_with('#')) {
        if !is_case_id(line) {
            return Err(format!(
                "{}: {line:?} is not an h2spec case ID",
                path.display()
            ));
        }
        if !ids.insert(line.to_owned()) {
            return Err(format!("{}: {line} is listed twice", path.display()));
        }
    }
    if ids.is_empty() {
        return Err(format!("{} lists no case", path.display()));
    }
    Ok(ids)
}

/// Whether `text` looks like `<spec>/<section>/<number>`.
fn is_case_id(text: &str) -> bool {
    let mut parts = text.split('/');
    let (Some(spec), Some(section), Some(number), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !spec.is_empty()
        && !section.is_empty()
        && section.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.parse::<u32>().is_ok_and(|number| number > 0)
}
