//! The prost-build service generator emitting rsrpc servers and clients.

mod client;
mod docs;
mod model;
mod server;
mod types;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use proc_macro2::TokenStream;
use prost_build::{Service, ServiceGenerator};

use crate::options::Options;
use model::ServiceModel;
use types::TypeResolver;

/// Problems found while generating services, shared with the caller because
/// [`ServiceGenerator::generate`] cannot return errors.
pub type Errors = Rc<RefCell<Vec<String>>>;

/// Appends the server and/or client modules of each service to prost's
/// output for its package.
pub struct RsrpcServiceGenerator {
    options: Options,
    types: TypeResolver,
    errors: Errors,
    /// Generated module names per package, to report services whose
    /// modules would clash (`Foo` and `foo` both give `foo_server`).
    modules: HashMap<(String, String), String>,
}

impl RsrpcServiceGenerator {
    /// A generator for `options` that reports problems into `errors`.
    pub fn new(options: &Options, errors: Errors) -> Self {
        Self {
            options: options.clone(),
            types: TypeResolver::new(options),
            errors,
            modules: HashMap::new(),
        }
    }

    /// Records the modules `service` will define, failing if a previous
    /// service of the same package already took one of them.
    fn claim_modules(&mut self, service: &ServiceModel, package: &str) -> Result<(), String> {
        for module in [&service.server_module, &service.client_module] {
            let key = (package.to_owned(), module.to_string());
            if let Some(other) = self.modules.get(&key) {
                return Err(format!(
                    "services `{other}` and `{}` both generate the module `{module}`",
                    service.full_name
                ));
            }
            self.modules.insert(key, service.full_name.clone());
        }
        Ok(())
    }

    fn render(&mut self, service: &Service) -> Result<TokenStream, String> {
        let model = ServiceModel::new(service, &self.options, &self.types)?;
        self.claim_modules(&model, &service.package)?;
        let mut tokens = TokenStream::new();
        if self.options.server {
            tokens.extend(server::render(&model));
        }
        if self.options.client {
            tokens.extend(client::render(&model));
        }
        Ok(tokens)
    }
}

impl ServiceGenerator for RsrpcServiceGenerator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        // On error nothing is appended: prost must still get parseable code,
        // and the caller turns the recorded error into the response.
        match self.render(&service) {
            Ok(tokens) => {
                buf.push_str(&tokens.to_string());
                buf.push('\n');
            }
            Err(error) => self.errors.borrow_mut().push(error),
        }
    }
}
