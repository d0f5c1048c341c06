//! The framing of the runner's stdin and stdout: each message is a 4-byte big-endian
//! length, then the message in protobuf binary.

use std::io;

use prost::Message;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Reads one size-delimited message; `Ok(None)` at a clean end of input (before a
/// length), an error if the input ends inside a message.
pub async fn read_message<M, R>(input: &mut R) -> io::Result<Option<M>>
where
    M: Message + Default,
    R: AsyncRead + Unpin,
{
    let mut prefix = [0; 4];
    let mut filled = 0;
    while filled < prefix.len() {
        match input.read(&mut prefix[filled..]).await? {
            0 if filled == 0 => return Ok(None),
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "input ended inside a length prefix",
                ));
            }
            read => filled += read,
        }
    }
    let len = u32::from_be_bytes(prefix) as usize;
    let mut bytes = vec![0; len];
    input.read_exact(&mut bytes).await?;
    M::decode(bytes.as_slice())
        .map(Some)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

/// Writes one size-delimited message and flushes it, so that the runner sees it at once.
pub async fn write_message<M, W>(output: &mut W, message: &M) -> io::Result<()>
where
    M: Message,
    W: AsyncWrite + Unpin,
{
    let len = u32::try_from(message.encoded_len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message over 4 GiB"))?;
    let mut bytes = Vec::with_capacity(4 + len as usize);
    bytes.extend_from_slice(&len.to_be_bytes());
    message
        .encode(&mut bytes)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    output.write_all(&bytes).await?;
    output.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Header;

    #[tokio::test]
    async fn messages_round_trip_and_end_cleanly() {
        let header = Header {
            name: "x-a".into(),
            value: vec!["1".into(), "2".into()],
        };
        let mut wire = Vec::new();
        write_message(&mut wire, &header).await.unwrap();
        write_message(&mut wire, &Header::default()).await.unwrap();
        assert_eq!(wire[..4], (header.encoded_len() as u32).to_be_bytes());

        let mut input = wire.as_slice();
        assert_eq!(read_message(&mut input).await.unwrap(), Some(header));
        // An empty message is a zero length and nothing else: not the end of input.
        assert_eq!(
            read_message(&mut input).await.unwrap(),
            Some(Header::default())
        );
        assert_eq!(read_message::<Header, _>(&mut input).await.unwrap(), None);
    }

    #[tokio::test]
    async fn input_cut_inside_a_message_is_an_error() {
        let mut wire = Vec::new();
        write_message(
            &mut wire,
            &Header {
                name: "x".into(),
                value: vec![],
            },
        )
        .await
        .unwrap();
        for cut in [2, wire.len() - 1] {
            let mut input = &wire[..cut];
            let error = read_message::<Header, _>(&mut input).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
    }
}
