//! DNS over TCP: each message preceded by its length as two octets in
//! network order (RFC 1035 §4.2.2, RFC 7766 §8). The one place this
//! framing is written, for the server, the transport and the tests.
//!
//! ```text
//! ┌────────┬────────┬──────────────────────────┐
//! │ length (u16, BE) │ message (length octets)  │
//! └────────┴────────┴──────────────────────────┘
//! ```

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest message the two-octet length can carry.
pub const MAX_MESSAGE: usize = u16::MAX as usize;

/// Why a framed message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    /// The stream failed or ended before a whole message.
    #[error("TCP stream: {0}")]
    Io(#[from] io::Error),
    /// A message longer than the length prefix can say (RFC 1035 §4.2.2).
    #[error("a message of {0} octets does not fit a two-octet length")]
    TooLong(usize),
}

impl From<FramingError> for io::Error {
    fn from(error: FramingError) -> Self {
        match error {
            FramingError::Io(error) => error,
            FramingError::TooLong(_) => io::Error::new(io::ErrorKind::InvalidInput, error),
        }
    }
}

/// Reads one length-prefixed message. Not cancel-safe: a future dropped
/// half-way leaves the stream in the middle of a message.
pub async fn read_message<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Vec<u8>, FramingError> {
    let length = stream.read_u16().await?;
    let mut message = vec![0u8; usize::from(length)];
    stream.read_exact(&mut message).await?;
    Ok(message)
}

/// Writes one length-prefixed message, prefix and message in one write so
/// that they leave in one segment (RFC 7766 §8).
pub async fn write_message<W: AsyncWrite + Unpin>(
    stream: &mut W,
    message: &[u8],
) -> Result<(), FramingError> {
    let length = u16::try_from(message.len()).map_err(|_| FramingError::TooLong(message.len()))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_goes_through_with_its_length_first() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        write_message(&mut client, b"hello").await.expect("written");
        write_message(&mut client, b"").await.expect("written");
        let mut prefix = [0u8; 2];
        server.read_exact(&mut prefix).await.expect("prefix");
        assert_eq!(prefix, [0, 5]);
        let mut body = [0u8; 5];
        server.read_exact(&mut body).await.expect("body");
        assert_eq!(read_message(&mut server).await.expect("empty"), b"");
    }

    #[tokio::test]
    async fn too_long_a_message_is_refused_and_a_short_stream_is_an_error() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let long = vec![0u8; MAX_MESSAGE + 1];
        assert!(matches!(
            write_message(&mut client, &long).await,
            Err(FramingError::TooLong(65_536))
        ));
        client.write_all(&[0, 9, 1, 2]).await.expect("written");
        drop(client);
        assert!(matches!(
            read_message(&mut server).await,
            Err(FramingError::Io(_))
        ));
    }
}
