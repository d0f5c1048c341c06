//! The `{service}_client` module: a client with one async method per rpc.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::model::{CallKind, MethodModel, ServiceModel};

/// Renders the client module for `service`.
pub fn render(service: &ServiceModel) -> TokenStream {
    let module = &service.client_module;
    let module_doc = docs::line(&format!("Generated client for `{}`.", service.full_name));
    let lints = service.module_lints();
    let name = &service.client_ident;
    let fallback = format!("A client for `{}`.", service.full_name);
    let docs = docs::attributes(&docs::lines_or(&service.docs, &fallback));
    let deprecated = service.deprecated_attribute();
    let methods = service.methods.iter().map(client_method);
    let codec = &service.codec;
    let (grpc, new_grpc) = match service.json {
        true => (
            quote! { ::rsrpc::client::Grpc<#codec> },
            quote! { ::rsrpc::client::Grpc::with_codec(channel, #codec) },
        ),
        false => (
            quote! { ::rsrpc::client::Grpc },
            quote! { ::rsrpc::client::Grpc::new(channel) },
        ),
    };
    quote! {
        #module_doc
        #lints
        pub mod #module {
            #docs
            #deprecated
            #[derive(Debug, Clone)]
            pub struct #name {
                inner: #grpc,
            }

            impl #name {
                /// Creates a client that sends calls over `channel`.
                pub fn new(channel: ::rsrpc::Channel) -> Self {
                    Self { inner: #new_grpc }
                }

                /// Connects to `destination` (e.g. `"http://127.0.0.1:50051"`) over HTTP/2.
                pub async fn connect<D>(destination: D) -> Result<Self, ::rsrpc::Error>
                where
                    D: TryInto<::rsrpc::client::Target>,
                    D::Error: Into<::rsrpc::codegen::BoxError>,
                {
                    ::rsrpc::Channel::connect(destination).await.map(Self::new)
                }

                /// Applies limits, a default timeout and other settings to every call.
                pub fn with_config(self, config: ::rsrpc::client::ClientConfig) -> Self {
                    Self { inner: self.inner.with_config(config) }
                }

                /// Returns the underlying call dispatcher.
                pub fn into_inner(self) -> #grpc {
                    self.inner
                }

                #( #methods )*
            }
        }
    }
}

fn client_method(method: &MethodModel) -> TokenStream {
    let name = &method.client_ident;
    let route = &method.route;
    let input = &method.input;
    let output = &method.output;
    let call = match method.kind {
        CallKind::Unary if method.no_side_effects => {
            quote::format_ident!("unary_without_side_effects")
        }
        kind => kind.runtime_fn(),
    };
    let docs = method_docs(method);
    let deprecated = method.deprecated_attribute();
    let (request_type, into_request) = if method.kind.client_streams() {
        (
            quote! { impl ::rsrpc::IntoStreamingRequest<Message = #input> },
            quote! { into_streaming_request },
        )
    } else {
        (
            quote! { impl ::rsrpc::IntoRequest<#input> },
            quote! { into_request },
        )
    };
    let response = if method.kind.server_streams() {
        quote! { ::rsrpc::Streaming<#output> }
    } else {
        quote! { #output }
    };
    quote! {
        #docs
        #deprecated
        pub async fn #name(&self, request: #request_type)
            -> Result<::rsrpc::Response<#response>, ::rsrpc::Status>
        {
            self.inner.#call(request.#into_request(), #route).await
        }
    }
}

/// The rpc's comments (or a default line), plus a note when the method was
/// renamed to avoid one of the client's helpers.
fn method_docs(method: &MethodModel) -> TokenStream {
    let mut docs = docs::lines_or(&method.docs, &format!("Calls `{}`.", method.route));
    if method.client_renamed {
        docs.push(String::new());
        docs.push(format!(
            " Named `{}` because `{}` is taken by a client helper.",
            method.client_ident, method.server_ident
        ));
    }
    docs::attributes(&docs)
}
