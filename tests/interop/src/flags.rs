//! Command-line flags in the style of the other gRPC interop binaries: `--name=value`,
//! `--name value`, and bare `--name` for a true boolean.

use std::collections::HashMap;

/// Parsed flags, checked against the names a program accepts.
#[derive(Debug)]
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `args` (without the program name), accepting only `known` names.
    pub fn parse(args: impl IntoIterator<Item = String>, known: &[&str]) -> Result<Flags, String> {
        let mut values = HashMap::new();
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            let flag = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg:?}"))?;
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = match args.peek() {
                        Some(next) if !next.starts_with("--") => args.next().unwrap_or_default(),
                        _ => "true".to_owned(),
                    };
                    (flag.to_owned(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!(
                    "unknown flag --{name} (known: --{})",
                    known.join(", --")
                ));
            }
            values.insert(name, value);
        }
        Ok(Flags { values })
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A boolean flag: absent is false.
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(format!("--{name} takes true or false, not {other:?}")),
        }
    }

    /// A required flag.
    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, String> {
        Flags::parse(args.iter().map(|arg| arg.to_string()), &["port", "use_tls"])
    }

    #[test]
    fn parses_every_form() {
        let flags = parse(&["--port=1", "--use_tls"]).unwrap();
        assert_eq!(flags.get("port"), Some("1"));
        assert!(flags.bool("use_tls").unwrap());
        let flags = parse(&["--port", "2", "--use_tls=false"]).unwrap();
        assert_eq!(flags.required("port"), Ok("2"));
        assert!(!flags.bool("use_tls").unwrap());
    }

    #[test]
    fn rejects_unknown_flags_and_bad_booleans() {
        assert!(parse(&["--nope=1"]).unwrap_err().contains("--nope"));
        assert!(parse(&["--use_tls=yes"]).unwrap().bool("use_tls").is_err());
        assert!(parse(&["stray"]).is_err());
    }
}
