//! Configuring the reflection service.

use bytes::Bytes;

use super::Error;
use super::index::Index;
use super::service::ReflectionService;
use super::{v1, v1alpha};
use crate::server::NamedService;

/// Configures a [`ReflectionService`] and wraps it in the server of a protocol version.
#[derive(Debug, Clone)]
pub struct Builder {
    sets: Vec<Bytes>,
    services: Vec<String>,
    include_reflection_service: bool,
}

impl Builder {
    /// A builder with no descriptors registered yet.
    pub fn configure() -> Builder {
        Builder {
            sets: Vec::new(),
            services: Vec::new(),
            include_reflection_service: true,
        }
    }

    /// Registers an encoded `google.protobuf.FileDescriptorSet`, such as the
    /// `FILE_DESCRIPTOR_SET` that `protoc-gen-rsrpc` generates with its
    /// `file_descriptor_set` option. Its files must include all they import.
    pub fn register_encoded_file_descriptor_set(mut self, set: &'static [u8]) -> Builder {
        self.sets.push(Bytes::from_static(set));
        self
    }

    /// Lists `name` (fully qualified, e.g. `helloworld.Greeter`) among the served
    /// services. Without any, every service of the registered sets is listed.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Builder {
        self.services.push(name.into());
        self
    }

    /// Whether the reflection service describes itself (default true), so clients list
    /// it among the services.
    pub fn include_reflection_service(mut self, include: bool) -> Builder {
        self.include_reflection_service = include;
        self
    }

    /// Builds the `grpc.reflection.v1.ServerReflection` server.
    pub fn build_v1(
        self,
    ) -> Result<v1::server_reflection_server::ServerReflectionServer<ReflectionService>, Error>
    {
        use v1::server_reflection_server::ServerReflectionServer;
        let service = self.service(
            v1::FILE_DESCRIPTOR_SET,
            ServerReflectionServer::<ReflectionService>::NAME,
        )?;
        Ok(ServerReflectionServer::new(service))
    }

    /// Builds the `grpc.reflection.v1alpha.ServerReflection` server, for older clients.
    pub fn build_v1alpha(
        self,
    ) -> Result<v1alpha::server_reflection_server::ServerReflectionServer<ReflectionService>, Error>
    {
        use v1alpha::server_reflection_server::ServerReflectionServer;
        let service = self.service(
            v1alpha::FILE_DESCRIPTOR_SET,
            ServerReflectionServer::<ReflectionService>::NAME,
        )?;
        Ok(ServerReflectionServer::new(service))
    }

    /// The service, describing itself with `own_set` and `own_name` if it should.
    fn service(
        mut self,
        own_set: &'static [u8],
        own_name: &str,
    ) -> Result<ReflectionService, Error> {
        if self.include_reflection_service {
            self.sets.push(Bytes::from_static(own_set));
            if !self.services.is_empty() {
                self.services.push(own_name.to_owned());
            }
        }
        Index::new(&self.sets, &self.services).map(ReflectionService::new)
    }
}
