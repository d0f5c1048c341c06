//! The reflection service: answers each request of a stream from the [`Index`].

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use prost::Message;

use super::index::Index;
use super::v1::server_reflection_request::MessageRequest;
use super::v1::server_reflection_response::MessageResponse;
use super::v1::{
    ErrorResponse, ExtensionNumberResponse, FileDescriptorResponse, ListServiceResponse,
    ServerReflectionRequest, ServerReflectionResponse, ServiceResponse,
};
use super::{v1, v1alpha};
use crate::{BoxStream, Code, Request, Response, Status, Streaming};

/// Serves `grpc.reflection.v1.ServerReflection` and `grpc.reflection.v1alpha.ServerReflection`
/// from the descriptors given to a [`Builder`](super::Builder).
#[derive(Clone)]
pub struct ReflectionService {
    index: Arc<Index>,
}

impl std::fmt::Debug for ReflectionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReflectionService")
            .field("services", &self.index.services())
            .finish_non_exhaustive()
    }
}

impl ReflectionService {
    pub(super) fn new(index: Index) -> ReflectionService {
        ReflectionService {
            index: Arc::new(index),
        }
    }

    fn answers<R: Version>(&self, requests: Request<Streaming<R>>) -> Answers<R> {
        Answers {
            index: Arc::clone(&self.index),
            requests: requests.into_inner(),
            sent: HashSet::new(),
        }
    }
}

impl v1::server_reflection_server::ServerReflection for ReflectionService {
    type ServerReflectionInfoStream = BoxStream<ServerReflectionResponse>;

    async fn server_reflection_info(
        &self,
        requests: Request<Streaming<ServerReflectionRequest>>,
    ) -> Result<Response<Self::ServerReflectionInfoStream>, Status> {
        Ok(Response::new(Box::pin(self.answers(requests))))
    }
}

impl v1alpha::server_reflection_server::ServerReflection for ReflectionService {
    type ServerReflectionInfoStream = BoxStream<v1alpha::ServerReflectionResponse>;

    async fn server_reflection_info(
        &self,
        requests: Request<Streaming<v1alpha::ServerReflectionRequest>>,
    ) -> Result<Response<Self::ServerReflectionInfoStream>, Status> {
        Ok(Response::new(Box::pin(self.answers(requests))))
    }
}

/// The request message of a version of the protocol. v1alpha's messages are v1's under
/// another package, field for field, so they are answered as v1's.
trait Version: Message + Default + 'static {
    type Response;
    fn into_v1(self) -> ServerReflectionRequest;
    fn response(v1: ServerReflectionResponse) -> Self::Response;
}

impl Version for ServerReflectionRequest {
    type Response = ServerReflectionResponse;
    fn into_v1(self) -> ServerReflectionRequest {
        self
    }
    fn response(v1: ServerReflectionResponse) -> ServerReflectionResponse {
        v1
    }
}

impl Version for v1alpha::ServerReflectionRequest {
    type Response = v1alpha::ServerReflectionResponse;
    fn into_v1(self) -> ServerReflectionRequest {
        transcode(&self)
    }
    fn response(v1: ServerReflectionResponse) -> v1alpha::ServerReflectionResponse {
        transcode(&v1)
    }
}

/// `message` as the wire-identical message type `T`.
fn transcode<T: Message + Default>(message: &impl Message) -> T {
    // Both sides are the same fields, so decoding what was just encoded cannot fail.
    T::decode(message.encode_to_vec().as_slice()).unwrap_or_default()
}

/// The responses of one stream: one per request, each made when the client is ready for
/// it, so a stream holds one request at a time.
struct Answers<R> {
    index: Arc<Index>,
    requests: Streaming<R>,
    /// The files sent on this stream, which later answers leave out as imports.
    sent: HashSet<usize>,
}

impl<R: Version> Stream for Answers<R> {
    type Item = Result<R::Response, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let request = match ready!(Pin::new(&mut this.requests).poll_next(cx)) {
            Some(Ok(request)) => request.into_v1(),
            Some(Err(status)) => return Poll::Ready(Some(Err(status))),
            None => return Poll::Ready(None),
        };
        let response = answer(&this.index, request, &mut this.sent);
        Poll::Ready(Some(Ok(R::response(response))))
    }
}

/// The response to `request`; `sent` is what the stream has sent so far.
fn answer(
    index: &Index,
    request: ServerReflectionRequest,
    sent: &mut HashSet<usize>,
) -> ServerReflectionResponse {
    let mut file = |found: Option<usize>, what: String| {
        found
            .ok_or_else(|| error(Code::NotFound, format!("{what} not found")))
            .map(|file| with_imports(index, file, sent))
    };
    let response = match &request.message_request {
        Some(MessageRequest::FileByFilename(name)) => {
            file(index.file(name), format!("file `{name}`"))
        }
        Some(MessageRequest::FileContainingSymbol(symbol)) => file(
            index.file_containing_symbol(symbol),
            format!("symbol `{symbol}`"),
        ),
        Some(MessageRequest::FileContainingExtension(extension)) => {
            let (extended, number) = (&extension.containing_type, extension.extension_number);
            file(
                index.file_containing_extension(extended, number),
                format!("extension {number} of `{extended}`"),
            )
        }
        Some(MessageRequest::AllExtensionNumbersOfType(extended)) => index
            .extension_numbers(extended)
            .map(|numbers| {
                MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                    base_type_name: extended.clone(),
                    extension_number: numbers,
                })
            })
            .ok_or_else(|| error(Code::NotFound, format!("type `{extended}` not found"))),
        Some(MessageRequest::ListServices(_)) => {
            let names = index.services().iter().cloned();
            let service = names.map(|name| ServiceResponse { name }).collect();
            Ok(MessageResponse::ListServicesResponse(ListServiceResponse {
                service,
            }))
        }
        None => Err(error(Code::InvalidArgument, "no request set".to_owned())),
    };
    ServerReflectionResponse {
        valid_host: request.host.clone(),
        message_response: Some(response.unwrap_or_else(MessageResponse::ErrorResponse)),
        original_request: Some(request),
    }
}

/// `file` and, breadth first, the files it imports transitively that this stream has not
/// sent yet, as grpc-go answers.
fn with_imports(index: &Index, file: usize, sent: &mut HashSet<usize>) -> MessageResponse {
    let mut queue = VecDeque::from([file]);
    let mut walked = HashSet::from([file]);
    let mut encoded = Vec::new();
    while let Some(next) = queue.pop_front() {
        if sent.insert(next) || next == file {
            encoded.push(index.encoded(next).to_vec());
        }
        let unwalked = index.imports(next).iter().filter(|i| walked.insert(**i));
        queue.extend(unwalked);
    }
    MessageResponse::FileDescriptorResponse(FileDescriptorResponse {
        file_descriptor_proto: encoded,
    })
}

fn error(code: Code, message: String) -> ErrorResponse {
    ErrorResponse {
        error_code: code as i32,
        error_message: message,
    }
}
