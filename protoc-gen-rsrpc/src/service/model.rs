//! Everything the server and client renderers need about one service,
//! resolved and checked up front so rendering cannot fail.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use prost_build::{Comments, Method, Service};
use quote::{format_ident, quote};

use super::docs;
use super::types::TypeResolver;
use crate::names;
use crate::options::Options;
use crate::proto_path;

/// The four gRPC call shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams both ways.
    BidiStreaming,
}

impl CallKind {
    fn of(method: &Method) -> Self {
        match (method.client_streaming, method.server_streaming) {
            (false, false) => Self::Unary,
            (false, true) => Self::ServerStreaming,
            (true, false) => Self::ClientStreaming,
            (true, true) => Self::BidiStreaming,
        }
    }

    /// The runtime function handling this kind, in both `rsrpc::server` and
    /// `rsrpc::client::Grpc`.
    pub fn runtime_fn(self) -> Ident {
        format_ident!(
            "{}",
            match self {
                Self::Unary => "unary",
                Self::ServerStreaming => "server_streaming",
                Self::ClientStreaming => "client_streaming",
                Self::BidiStreaming => "bidi_streaming",
            }
        )
    }

    /// Whether the client sends a stream.
    pub fn client_streams(self) -> bool {
        matches!(self, Self::ClientStreaming | Self::BidiStreaming)
    }

    /// Whether the server sends a stream.
    pub fn server_streams(self) -> bool {
        matches!(self, Self::ServerStreaming | Self::BidiStreaming)
    }
}

/// A service ready to render.
#[derive(Debug)]
pub struct ServiceModel {
    /// `package.Service`, as used in routes and `NamedService::NAME`.
    pub full_name: String,
    /// The rsrpc codec its messages travel with (`ProstCodec`, or `JsonCodec`).
    pub codec: TokenStream,
    /// Whether that codec is `JsonCodec`.
    pub json: bool,
    /// The server trait, e.g. `RouteGuide`.
    pub trait_ident: Ident,
    /// The server struct, e.g. `RouteGuideServer`.
    pub server_ident: Ident,
    /// The client struct, e.g. `RouteGuideClient`.
    pub client_ident: Ident,
    /// The server module, e.g. `route_guide_server`.
    pub server_module: Ident,
    /// The client module, e.g. `route_guide_client`.
    pub client_module: Ident,
    /// The service's comments as doc lines (empty if none or disabled).
    pub docs: Vec<String>,
    /// Whether the service is marked `deprecated`.
    pub deprecated: bool,
    /// The rpcs, in declaration order.
    pub methods: Vec<MethodModel>,
}

/// An rpc ready to render.
#[derive(Debug)]
pub struct MethodModel {
    /// The rpc's proto name, e.g. `GetFeature`.
    pub proto_name: String,
    /// `/package.Service/Method`.
    pub route: String,
    /// The call shape.
    pub kind: CallKind,
    /// The server trait method, e.g. `get_feature`.
    pub server_ident: Ident,
    /// The client method; differs from `server_ident` for client helper names.
    pub client_ident: Ident,
    /// Whether `client_ident` was renamed to dodge a client helper.
    pub client_renamed: bool,
    /// The server's response stream type, e.g. `ListFeaturesStream`.
    pub stream_ident: Ident,
    /// The request message type, usable inside the generated modules.
    pub input: TokenStream,
    /// The response message type, usable inside the generated modules.
    pub output: TokenStream,
    /// The rpc's comments as doc lines (empty if none or disabled).
    pub docs: Vec<String>,
    /// Whether the rpc is marked `deprecated`.
    pub deprecated: bool,
    /// Whether the rpc says `option idempotency_level = NO_SIDE_EFFECTS`.
    pub no_side_effects: bool,
}

impl ServiceModel {
    /// Resolves names, types and docs for `service`, failing with a message
    /// naming the culprit when a name cannot become an identifier or two
    /// rpcs would share one.
    pub fn new(service: &Service, options: &Options, types: &TypeResolver) -> Result<Self, String> {
        let full_name = match service.package.as_str() {
            "" => service.proto_name.clone(),
            package => format!("{package}.{}", service.proto_name),
        };
        let fq_name = proto_path::qualify(&service.package, &service.proto_name);
        let name = &service.proto_name;
        let ident = |rust: String| {
            names::ident(&rust).ok_or_else(|| {
                format!("service `{full_name}`: cannot make a Rust identifier from `{name}`")
            })
        };
        let methods = service
            .methods
            .iter()
            .map(|method| MethodModel::new(method, &full_name, &fq_name, options, types))
            .collect::<Result<Vec<_>, _>>()?;
        let all = || methods.iter();
        check_unique(&full_name, "method", all().map(|m| (m, &m.server_ident)))?;
        check_unique(
            &full_name,
            "client method",
            all().map(|m| (m, &m.client_ident)),
        )?;
        let streaming = all().filter(|m| m.kind.server_streams());
        check_unique(
            &full_name,
            "stream type",
            streaming.map(|m| (m, &m.stream_ident)),
        )?;
        Ok(Self {
            trait_ident: ident(names::upper_camel(name))?,
            server_ident: ident(names::upper_camel_with_suffix(name, "Server"))?,
            client_ident: ident(names::upper_camel_with_suffix(name, "Client"))?,
            server_module: ident(names::snake_with_suffix(name, "_server"))?,
            client_module: ident(names::snake_with_suffix(name, "_client"))?,
            docs: doc_lines(&service.comments, &fq_name, options),
            deprecated: service.options.deprecated(),
            methods,
            full_name,
            codec: options.codec(),
            json: options.json,
        })
    }

    /// The lints allowed on a generated module.
    ///
    /// rpc names come from the `.proto` and every rpc method takes `&self`,
    /// so clippy's naming conventions (`new`, `into_*`...) cannot be met;
    /// and if anything in the service is deprecated, the module itself uses
    /// those items.
    pub fn module_lints(&self) -> TokenStream {
        if self.deprecated || self.methods.iter().any(|m| m.deprecated) {
            quote! { #[allow(deprecated, clippy::wrong_self_convention)] }
        } else {
            quote! { #[allow(clippy::wrong_self_convention)] }
        }
    }

    /// `#[deprecated]` if the service is deprecated.
    pub fn deprecated_attribute(&self) -> TokenStream {
        deprecated_attribute(self.deprecated)
    }
}

impl MethodModel {
    fn new(
        method: &Method,
        service_full_name: &str,
        service_fq_name: &str,
        options: &Options,
        types: &TypeResolver,
    ) -> Result<Self, String> {
        let name = &method.proto_name;
        let route = format!("/{service_full_name}/{name}");
        let ident = |rust: &str| {
            names::ident(rust).ok_or_else(|| {
                format!("rpc `{route}`: cannot make a Rust identifier from `{name}`")
            })
        };
        let server_name = names::snake(name);
        let (client_name, client_renamed) = names::client_method(&server_name);
        let resolve = |proto: &str, rust: &str| {
            types
                .resolve(proto, rust)
                .map_err(|error| format!("rpc `{route}`: {error}"))
        };
        Ok(Self {
            kind: CallKind::of(method),
            server_ident: ident(&server_name)?,
            client_ident: ident(&client_name)?,
            client_renamed,
            stream_ident: ident(&names::upper_camel_with_suffix(name, "Stream"))?,
            input: resolve(&method.input_proto_type, &method.input_type)?,
            output: resolve(&method.output_proto_type, &method.output_type)?,
            docs: doc_lines(
                &method.comments,
                &format!("{service_fq_name}.{name}"),
                options,
            ),
            deprecated: method.options.deprecated(),
            no_side_effects: method.options.idempotency_level()
                == prost_types::method_options::IdempotencyLevel::NoSideEffects,
            proto_name: name.clone(),
            route,
        })
    }

    /// `#[deprecated]` if the rpc is deprecated.
    pub fn deprecated_attribute(&self) -> TokenStream {
        deprecated_attribute(self.deprecated)
    }
}

fn deprecated_attribute(deprecated: bool) -> TokenStream {
    if deprecated {
        quote! { #[deprecated] }
    } else {
        TokenStream::new()
    }
}

/// The doc lines for an item, unless `disable_comments` selects it.
fn doc_lines(comments: &Comments, fq_name: &str, options: &Options) -> Vec<String> {
    let disabled = options
        .disable_comments
        .iter()
        .any(|matcher| proto_path::matches(matcher, fq_name));
    if disabled {
        Vec::new()
    } else {
        docs::comment_lines(comments)
    }
}

/// Fails if two rpcs map to the same generated identifier.
fn check_unique<'a>(
    service: &str,
    what: &str,
    idents: impl Iterator<Item = (&'a MethodModel, &'a Ident)>,
) -> Result<(), String> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for (method, ident) in idents {
        let rust = ident.to_string();
        if let Some(first) = seen.insert(rust.clone(), &method.proto_name) {
            return Err(format!(
                "service `{service}`: rpcs `{first}` and `{}` both map to the Rust {what} `{rust}`",
                method.proto_name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(name: &str, client_streaming: bool, server_streaming: bool) -> Method {
        Method {
            name: names::snake(name),
            proto_name: name.to_owned(),
            comments: Comments::default(),
            input_type: "In".to_owned(),
            output_type: "Out".to_owned(),
            input_proto_type: ".pkg.In".to_owned(),
            output_proto_type: ".pkg.Out".to_owned(),
            options: prost_types::MethodOptions::default(),
            client_streaming,
            server_streaming,
        }
    }

    fn service(package: &str, methods: Vec<Method>) -> Service {
        Service {
            name: "RouteGuide".to_owned(),
            proto_name: "RouteGuide".to_owned(),
            package: package.to_owned(),
            comments: Comments::default(),
            methods,
            options: prost_types::ServiceOptions::default(),
        }
    }

    fn model(service: &Service) -> Result<ServiceModel, String> {
        let options = Options::default();
        ServiceModel::new(service, &options, &TypeResolver::new(&options))
    }

    #[test]
    fn names_everything_after_the_service_and_rpcs() {
        let service = service(
            "pkg",
            vec![method("New", false, true), method("Get", true, true)],
        );
        let model = model(&service).unwrap();
        assert_eq!(model.full_name, "pkg.RouteGuide");
        assert_eq!(model.server_module.to_string(), "route_guide_server");
        assert_eq!(model.client_ident.to_string(), "RouteGuideClient");
        let new = &model.methods[0];
        assert_eq!(new.route, "/pkg.RouteGuide/New");
        assert_eq!(new.kind, CallKind::ServerStreaming);
        assert_eq!(
            (new.server_ident.to_string(), new.client_ident.to_string()),
            ("new".into(), "new_rpc".into())
        );
        assert_eq!(new.stream_ident.to_string(), "NewStream");
        assert_eq!(new.input.to_string(), "super :: In");
        assert_eq!(model.methods[1].kind, CallKind::BidiStreaming);
    }

    #[test]
    fn routes_without_a_package() {
        let model = model(&service("", vec![method("Get", false, false)])).unwrap();
        assert_eq!(model.full_name, "RouteGuide");
        assert_eq!(model.methods[0].route, "/RouteGuide/Get");
    }

    #[test]
    fn rejects_rpcs_sharing_a_name() {
        let error = model(&service(
            "pkg",
            vec![method("GetA", false, false), method("get_a", false, false)],
        ));
        assert_eq!(
            error.unwrap_err(),
            "service `pkg.RouteGuide`: rpcs `GetA` and `get_a` both map to the Rust method `get_a`"
        );
        let error = model(&service(
            "pkg",
            vec![method("New", false, false), method("NewRpc", false, false)],
        ));
        assert!(
            error
                .unwrap_err()
                .contains("both map to the Rust client method `new_rpc`")
        );
    }

    #[test]
    fn rejects_names_without_an_identifier() {
        let error = model(&service("pkg", vec![method("_", false, false)])).unwrap_err();
        assert_eq!(
            error,
            "rpc `/pkg.RouteGuide/_`: cannot make a Rust identifier from `_`"
        );
    }

    #[test]
    fn drops_disabled_comments() {
        let mut service = service("pkg", vec![method("Get", false, false)]);
        service.comments.leading = vec!["Service docs.".to_owned()];
        service.methods[0].comments.leading = vec!["Method docs.".to_owned()];
        let options = Options {
            disable_comments: vec!["RouteGuide.Get".to_owned()],
            ..Options::default()
        };
        let model = ServiceModel::new(&service, &options, &TypeResolver::new(&options)).unwrap();
        assert_eq!(model.docs, [" Service docs."]);
        assert!(model.methods[0].docs.is_empty());
    }
}
