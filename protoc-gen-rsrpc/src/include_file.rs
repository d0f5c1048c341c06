//! The optional include file: one module tree including every generated file.

use prost_build::Module;

/// Renders nested `pub mod` blocks, one level per package component (`a.b`
/// becomes `pub mod a { pub mod b { ... } }`), each including its file.
///
/// Paths are relative, so the include file works wherever the generated
/// files sit together, and the plugin and the builder produce identical
/// bytes. The empty package's file is included at the root.
pub fn render<'a>(files: impl IntoIterator<Item = (&'a Module, String)>) -> String {
    let mut files: Vec<(&Module, String)> = files.into_iter().collect();
    files.sort();

    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    for (module, file_name) in &files {
        let parts: Vec<&str> = module.parts().collect();
        let shared = open
            .iter()
            .zip(&parts)
            .take_while(|(open, part)| open == part)
            .count();
        while open.len() > shared {
            open.pop();
            push_line(&mut out, open.len(), "}");
        }
        for part in &parts[shared..] {
            push_line(&mut out, open.len(), &format!("pub mod {part} {{"));
            open.push(part);
        }
        push_line(&mut out, open.len(), &format!("include!({file_name:?});"));
    }
    while open.pop().is_some() {
        push_line(&mut out, open.len(), "}");
    }
    out
}

fn push_line(out: &mut String, depth: usize, line: &str) {
    out.push_str(&"    ".repeat(depth));
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_packages_and_includes_empty_package_at_root() {
        let modules =
            ["b", "a.y", "", "a.x.deep", "a.type"].map(Module::from_protobuf_package_name);
        let files = modules.iter().map(|m| (m, m.to_file_name_or("_")));
        let expected = r#"include!("_.rs");
pub mod a {
    pub mod r#type {
        include!("a.r#type.rs");
    }
    pub mod x {
        pub mod deep {
            include!("a.x.deep.rs");
        }
    }
    pub mod y {
        include!("a.y.rs");
    }
}
pub mod b {
    include!("b.rs");
}
"#;
        assert_eq!(render(files), expected);
    }
}
