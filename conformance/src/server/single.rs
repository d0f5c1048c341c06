//! The answer of the single-response methods, unary and client stream, from their
//! `UnaryResponseDefinition`.

use std::time::Duration;

use prost_types::Any;
use rsrpc::codec::Encoding;
use rsrpc::{Response, Status};

use super::info::Observed;
use crate::any::pack;
use crate::errors::to_status;
use crate::headers::to_metadata;
use crate::proto::unary_response_definition::Response as Definition;
use crate::proto::{ConformancePayload, UnaryResponseDefinition};

/// The response `definition` asks for, echoing `observed` and `requests`, after its
/// delay; compressed with the request's encoding when `compression` is given.
///
/// Without a definition, only the request info comes back. An error carries the
/// request info as its last detail, and the response headers and trailers as its
/// metadata: a failed unary call answers with one header block.
pub async fn answer(
    observed: &Observed,
    definition: Option<UnaryResponseDefinition>,
    requests: Vec<Any>,
    compression: Option<Encoding>,
) -> Result<Response<ConformancePayload>, Status> {
    let info = observed.info(requests);
    let Some(definition) = definition else {
        return Ok(Response::new(ConformancePayload {
            data: Vec::new(),
            request_info: Some(info),
        }));
    };
    let headers = to_metadata(&definition.response_headers).map_err(Status::invalid_argument)?;
    let trailers = to_metadata(&definition.response_trailers).map_err(Status::invalid_argument)?;
    let delay = Duration::from_millis(definition.response_delay_ms.into());
    tokio::time::sleep(delay).await;
    let data = match definition.response {
        Some(Definition::Error(error)) => {
            let mut metadata = headers;
            metadata.extend(trailers);
            return Err(to_status(&error, [pack(&info)]).with_metadata(metadata));
        }
        Some(Definition::ResponseData(data)) => data,
        None => Vec::new(),
    };
    let mut response = Response::new(ConformancePayload {
        data,
        request_info: Some(info),
    });
    *response.metadata_mut() = headers;
    *response.trailers_mut() = trailers;
    if compression.is_some() {
        response.set_compression(compression);
    }
    Ok(response)
}
