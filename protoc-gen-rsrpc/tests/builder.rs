//! The build.rs API: same output as the plugin, and readable errors.

mod common;

use std::collections::BTreeMap;

use common::{
    corpus_dir, corpus_protos, example_protos, examples_dir, generate, generate_corpus, read_files,
};
use protoc_gen_rsrpc::Builder;

/// Compiles the corpus with `builder` into a fresh directory.
fn build_corpus(builder: Builder) -> BTreeMap<String, String> {
    let out = tempfile::tempdir().unwrap();
    builder
        .out_dir(out.path())
        .compile(&corpus_protos(), &[corpus_dir()])
        .unwrap();
    read_files(out.path())
}

fn assert_same_as_plugin(parameter: &str, builder: Builder) {
    let from_plugin = generate_corpus(parameter);
    let from_builder = build_corpus(builder);
    assert_eq!(
        from_plugin.keys().collect::<Vec<_>>(),
        from_builder.keys().collect::<Vec<_>>(),
        "`{parameter}`"
    );
    for (name, content) in &from_plugin {
        assert!(
            content == &from_builder[name],
            "`{parameter}`: {name} differs"
        );
    }
}

#[test]
fn matches_the_plugin_with_defaults() {
    assert_same_as_plugin("", protoc_gen_rsrpc::configure());
}

#[test]
fn matches_the_plugin_on_the_examples() {
    let examples = examples_dir();
    let protos = example_protos();
    let generated = generate(&protos, &examples, "");
    let from_builder = tempfile::tempdir().unwrap();
    protoc_gen_rsrpc::configure()
        .out_dir(from_builder.path())
        .compile(&protos, &[&examples])
        .unwrap();
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        ["helloworld.rs", "routeguide.rs"]
    );
    assert!(generated == read_files(from_builder.path()));
}

#[test]
fn matches_the_plugin_with_an_include_file_and_no_client() {
    assert_same_as_plugin(
        "client=false,include_file=protos.rs",
        protoc_gen_rsrpc::configure()
            .client(false)
            .include_file("protos.rs"),
    );
}

#[test]
fn matches_the_plugin_with_message_options() {
    let parameter = concat!(
        "server=false,compile_well_known_types,btree_map=.,bytes=.corpus.types,",
        "boxed=.corpus.types.Shapes.inner,type_attribute=.corpus.types=#[a(b\\, c)],",
        "message_attribute=.corpus.types.Shapes=#[m],enum_attribute=Status=#[e],",
        "field_attribute=Shapes.kind=#[f],disable_comments=.corpus.services,",
        "extern_path=.corpus.b=::corpus_b,include_file=all.rs",
    );
    let builder = protoc_gen_rsrpc::configure()
        .server(false)
        .compile_well_known_types(true)
        .btree_map(".")
        .bytes(".corpus.types")
        .boxed(".corpus.types.Shapes.inner")
        .type_attribute(".corpus.types", "#[a(b, c)]")
        .message_attribute(".corpus.types.Shapes", "#[m]")
        .enum_attribute("Status", "#[e]")
        .field_attribute("Shapes.kind", "#[f]")
        .disable_comments(".corpus.services")
        .extern_path(".corpus.b", "::corpus_b")
        .include_file("all.rs");
    assert_same_as_plugin(parameter, builder);
}

#[test]
fn uses_the_given_protoc() {
    let protoc = protoc_bin_vendored::protoc_bin_path().unwrap();
    assert_same_as_plugin("", protoc_gen_rsrpc::configure().protoc(protoc));
}

#[test]
fn leaves_unchanged_files_alone() {
    let out = tempfile::tempdir().unwrap();
    let compile = || {
        protoc_gen_rsrpc::configure()
            .out_dir(out.path())
            .compile(&corpus_protos(), &[corpus_dir()])
            .unwrap();
    };
    compile();
    let file = out.path().join("corpus.services.rs");
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    compile();
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        written
    );
}

fn compile_error(builder: Builder, protos: &[std::path::PathBuf]) -> String {
    let out = tempfile::tempdir().unwrap();
    builder
        .out_dir(out.path())
        .compile(protos, &[corpus_dir()])
        .unwrap_err()
        .to_string()
}

#[test]
fn reports_protoc_errors() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("broken.proto");
    std::fs::write(&proto, "syntax = \"proto3\";\nmessage {\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = protoc_gen_rsrpc::configure()
        .out_dir(out.path())
        .compile(&[&proto], &[dir.path()])
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("protoc failed: "), "{error}");
    assert!(error.contains("broken.proto:2"), "{error}");
}

#[test]
fn reports_generator_errors() {
    let error = compile_error(
        protoc_gen_rsrpc::configure().include_file("../escape.rs"),
        &corpus_protos(),
    );
    assert!(
        error.contains("invalid value `../escape.rs` for `include_file`"),
        "{error}"
    );
}

#[test]
fn reports_protos_outside_the_includes() {
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("elsewhere.proto");
    std::fs::write(&proto, "syntax = \"proto3\";\n").unwrap();
    let error = compile_error(protoc_gen_rsrpc::configure(), &[proto]);
    assert!(
        error.contains("is not inside any include directory"),
        "{error}"
    );
}

#[test]
fn reports_a_missing_protoc() {
    let error = compile_error(
        protoc_gen_rsrpc::configure().protoc("/nonexistent/protoc"),
        &corpus_protos(),
    );
    assert!(
        error.contains("cannot run protoc `/nonexistent/protoc`"),
        "{error}"
    );
}

#[test]
fn reports_missing_include_directories() {
    let out = tempfile::tempdir().unwrap();
    let error = protoc_gen_rsrpc::configure()
        .out_dir(out.path())
        .compile(&corpus_protos(), &["/nonexistent/include"])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("include directory `/nonexistent/include`"),
        "{error}"
    );
}

#[test]
fn matches_the_plugin_with_file_descriptor_sets() {
    let from_plugin = generate_corpus("file_descriptor_set,include_file=protos.rs");
    assert!(
        from_plugin["corpus.services.rs"].contains("pub const FILE_DESCRIPTOR_SET: &[u8] = b\""),
        "no descriptor set in corpus.services.rs"
    );
    let builder = protoc_gen_rsrpc::configure()
        .file_descriptor_set(true)
        .include_file("protos.rs");
    assert!(from_plugin == build_corpus(builder));
}

/// The descriptor bytes in generated code decode to what protoc produced, whatever the
/// comments: a comment whose text lands as `///- a…` then `///b…` at the start of the
/// literal's lines once read as a doc list, and tidying docs must not touch it.
#[test]
fn descriptor_sets_keep_comments_that_look_like_doc_lists() {
    let width = 96;
    let block = format!(
        "///- {}///b{}",
        "a".repeat(width - 5),
        "c".repeat(width - 4)
    );
    let messages: String = (0..2 * width)
        .map(|pad| {
            format!(
                "// {}{}\nmessage M{pad} {{}}\n",
                "x".repeat(pad),
                block.repeat(3)
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let proto = dir.path().join("lists.proto");
    std::fs::write(
        &proto,
        format!("syntax = \"proto3\";\npackage lists;\n{messages}"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    protoc_gen_rsrpc::configure()
        .file_descriptor_set(true)
        .out_dir(out.path())
        .compile(&[&proto], &[dir.path()])
        .unwrap();
    let code = std::fs::read_to_string(out.path().join("lists.rs")).unwrap();
    let file = syn::parse_file(&code).unwrap();
    let bytes = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Const(item) if item.ident == "FILE_DESCRIPTOR_SET" => match &*item.expr {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::ByteStr(bytes),
                    ..
                }) => Some(bytes.value()),
                _ => None,
            },
            _ => None,
        })
        .expect("a FILE_DESCRIPTOR_SET byte string");
    let set = <prost_types::FileDescriptorSet as prost::Message>::decode(&bytes[..]).unwrap();
    let comments: Vec<String> = set.file[0]
        .source_code_info
        .iter()
        .flat_map(|info| &info.location)
        .filter_map(|location| location.leading_comments.clone())
        .collect();
    assert_eq!(comments.len(), 2 * width);
    for (pad, comment) in comments.iter().enumerate() {
        assert_eq!(
            *comment,
            format!(" {}{}\n", "x".repeat(pad), block.repeat(3))
        );
    }
}
