//! The `{service}_server` module: a trait to implement and a router serving it.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::model::{MethodModel, ServiceModel};

/// Renders the server module for `service`.
pub fn render(service: &ServiceModel) -> TokenStream {
    let module = &service.server_module;
    let module_doc = docs::line(&format!("Generated server for `{}`.", service.full_name));
    let lints = service.module_lints();
    let service_trait = service_trait(service);
    let server_struct = server_struct(service);
    let router = router(service);
    quote! {
        #module_doc
        #lints
        pub mod #module {
            #service_trait
            #server_struct
            #router
        }
    }
}

/// The trait users implement, one method (and maybe a stream type) per rpc.
fn service_trait(service: &ServiceModel) -> TokenStream {
    let name = &service.trait_ident;
    let fallback = format!("The handlers of `{}`.", service.full_name);
    let docs = docs::attributes(&docs::lines_or(&service.docs, &fallback));
    let deprecated = service.deprecated_attribute();
    let methods = service
        .methods
        .iter()
        .map(|method| trait_method(service, method));
    quote! {
        #docs
        #deprecated
        pub trait #name: Send + Sync + 'static {
            #( #methods )*
        }
    }
}

fn trait_method(service: &ServiceModel, method: &MethodModel) -> TokenStream {
    let name = &method.server_ident;
    let input = &method.input;
    let output = &method.output;
    let fallback = format!("Handles `{}`.", method.route);
    let docs = docs::attributes(&docs::lines_or(&method.docs, &fallback));
    let deprecated = method.deprecated_attribute();
    let request = if method.kind.client_streams() {
        quote! { ::rsrpc::Request<::rsrpc::Streaming<#input>> }
    } else {
        quote! { ::rsrpc::Request<#input> }
    };
    let (stream_type, response) = if method.kind.server_streams() {
        let stream = &method.stream_ident;
        let stream_doc = docs::line(&format!(
            "The response stream of {}.",
            method_link(service, method)
        ));
        let stream_type = quote! {
            #stream_doc
            type #stream: ::rsrpc::codegen::Stream<Item = Result<#output, ::rsrpc::Status>> + Send + 'static;
        };
        (stream_type, quote! { Self::#stream })
    } else {
        (TokenStream::new(), quote! { #output })
    };
    quote! {
        #stream_type
        #docs
        #deprecated
        fn #name(&self, request: #request)
            -> impl ::core::future::Future<Output = Result<::rsrpc::Response<#response>, ::rsrpc::Status>> + Send;
    }
}

/// An intra-doc link to the trait method of `method`.
fn method_link(service: &ServiceModel, method: &MethodModel) -> String {
    let path = format!("{}::{}", service.trait_ident, method.server_ident);
    match path.split_once("r#") {
        // rustdoc resolves raw identifiers only without their `r#`.
        Some((before, after)) => format!("[`{path}`]({before}{after})"),
        None => format!("[`{path}`]"),
    }
}

/// The server struct holding the implementation and its settings.
fn server_struct(service: &ServiceModel) -> TokenStream {
    let name = &service.server_ident;
    let service_trait = &service.trait_ident;
    let docs = docs::line(&format!(
        "Serves a [`{service_trait}`] implementation: routes `/{}/*` requests to it.",
        service.full_name
    ));
    let deprecated = service.deprecated_attribute();
    let service_name = &service.full_name;
    quote! {
        #docs
        #deprecated
        #[derive(Debug)]
        pub struct #name<T> {
            inner: ::std::sync::Arc<T>,
            config: ::rsrpc::server::ServiceConfig,
        }

        // Written by hand: a derive would require `T: Clone`.
        impl<T> Clone for #name<T> {
            fn clone(&self) -> Self {
                Self {
                    inner: ::std::sync::Arc::clone(&self.inner),
                    config: self.config.clone(),
                }
            }
        }

        impl<T: #service_trait> #name<T> {
            /// Serves `inner`.
            pub fn new(inner: T) -> Self {
                Self::from_arc(::std::sync::Arc::new(inner))
            }

            /// Serves an implementation that is shared with other code.
            pub fn from_arc(inner: ::std::sync::Arc<T>) -> Self {
                Self {
                    inner,
                    config: ::rsrpc::server::ServiceConfig::default(),
                }
            }

            /// Sets limits and other per-service settings.
            pub fn with_config(mut self, config: ::rsrpc::server::ServiceConfig) -> Self {
                self.config = config;
                self
            }

            /// Serves `inner` behind `interceptor`, which runs before each call to this
            /// service: an `InterceptedService`, as tonic's `with_interceptor` makes.
            pub fn with_interceptor(
                inner: T,
                interceptor: impl ::rsrpc::interceptor::Interceptor,
            ) -> ::rsrpc::server::InterceptedService<Self> {
                ::rsrpc::server::InterceptedService::new(Self::new(inner), interceptor)
            }
        }

        impl<T> ::rsrpc::server::NamedService for #name<T> {
            const NAME: &'static str = #service_name;
            fn inherit_config(&mut self, defaults: &::rsrpc::server::ServiceConfig) {
                self.config = self.config.or(defaults);
            }
        }
    }
}

/// The `Service` impl dispatching each route to its trait method.
fn router(service: &ServiceModel) -> TokenStream {
    let name = &service.server_ident;
    let service_trait = &service.trait_ident;
    let body = if service.methods.is_empty() {
        // Nothing to route to; binding `inner` and `config` would warn.
        quote! { Box::pin(::rsrpc::server::unimplemented(request)) }
    } else {
        let codec = &service.codec;
        let arms = service.methods.iter().map(|method| {
            let route = &method.route;
            let handler = method.kind.runtime_fn();
            let config = match method.no_side_effects {
                true => quote! { config.no_side_effects() },
                false => quote! { config },
            };
            let method = &method.server_ident;
            quote! {
                #route => Box::pin(::rsrpc::server::#handler(request, #config, #codec, move |request| async move {
                    <T as #service_trait>::#method(&inner, request).await
                })),
            }
        });
        quote! {
            let inner = ::std::sync::Arc::clone(&self.inner);
            let config = self.config.clone();
            match request.uri().path() {
                #( #arms )*
                _ => Box::pin(::rsrpc::server::unimplemented(request)),
            }
        }
    };
    quote! {
        impl<T, B> ::rsrpc::codegen::Service<::rsrpc::codegen::http::Request<B>> for #name<T>
        where
            T: #service_trait,
            B: ::rsrpc::codegen::http_body::Body + Send + 'static,
            B::Data: Send,
            B::Error: Into<::rsrpc::codegen::BoxError>,
        {
            type Response = ::rsrpc::codegen::http::Response<::rsrpc::Body>;
            type Error = ::core::convert::Infallible;
            type Future = ::rsrpc::codegen::BoxFuture<Result<Self::Response, Self::Error>>;

            fn poll_ready(
                &mut self,
                _cx: &mut ::core::task::Context<'_>,
            ) -> ::core::task::Poll<Result<(), Self::Error>> {
                ::core::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: ::rsrpc::codegen::http::Request<B>) -> Self::Future {
                #body
            }
        }
    }
}
