//! The block-sync wire protocol: one borsh request, one borsh response, each
//! behind a 4-byte little-endian length, on `/gont/sync/1`.

use std::io;

use borsh::{BorshDeserialize, BorshSerialize};
use gont_core::{ChainId, DecidedBlock, Height};
use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol name.
pub(crate) const PROTOCOL: StreamProtocol = StreamProtocol::new("/gont/sync/1");

/// Requests are a few dozen bytes; anything longer is not one.
pub(crate) const MAX_REQUEST_SIZE: usize = 1024;

/// A block-sync request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) enum SyncRequest {
    /// The peer's latest decided height of a chain.
    Status {
        /// The chain.
        chain: ChainId,
    },
    /// Decided blocks `from..=to`; the answer may stop early.
    Blocks {
        /// The chain.
        chain: ChainId,
        /// First height.
        from: Height,
        /// Last height.
        to: Height,
    },
}

/// A block-sync response.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) enum SyncResponse {
    /// The latest decided height, if any.
    Status {
        /// It.
        latest: Option<Height>,
    },
    /// Consecutive blocks from the requested height; empty if the first is
    /// not known. Fewer than asked when the size limit was reached.
    Blocks(Vec<DecidedBlock>),
    /// The chain is not served here.
    UnknownChain,
    /// The request exceeded the peer's rate limit.
    Busy,
}

/// Reads and writes length-prefixed borsh with a size limit per direction.
#[derive(Clone, Debug)]
pub(crate) struct SyncCodec {
    pub(crate) max_response_size: usize,
}

async fn read_frame<T, M>(io: &mut T, limit: usize) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
    M: BorshDeserialize,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {limit}"),
        ));
    }
    // Grow the buffer as bytes arrive, not by the length the peer claims.
    let mut buf = Vec::new();
    io.take(u64::try_from(len).unwrap_or(u64::MAX))
        .read_to_end(&mut buf)
        .await?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "frame ended early",
        ));
    }
    gont_core::decode(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

async fn write_frame<T, M>(io: &mut T, message: &M, limit: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
    M: BorshSerialize,
{
    let bytes = gont_core::encode(message);
    let len = u32::try_from(bytes.len())
        .ok()
        .filter(|_| bytes.len() <= limit)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes exceeds the limit of {limit}",
                    bytes.len()
                ),
            )
        })?;
    io.write_all(&len.to_le_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

#[async_trait::async_trait]
impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, MAX_REQUEST_SIZE).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response_size).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &request, MAX_REQUEST_SIZE).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &response, self.max_response_size).await
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap, index or panic is the test failing, with its message.
    #![allow(clippy::unwrap_used)]

    use libp2p::futures::executor::block_on;
    use libp2p::futures::io::Cursor;
    use libp2p::request_response::Codec;

    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_or_garbage_frames_are_refused() {
        let mut codec = SyncCodec {
            max_response_size: 64,
        };
        let request = SyncRequest::Blocks {
            chain: ChainId(7),
            from: Height(1),
            to: Height(9),
        };
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.write_request(&PROTOCOL, &mut wire, request)).unwrap();
        let mut back = Cursor::new(wire.into_inner());
        assert_eq!(
            block_on(codec.read_request(&PROTOCOL, &mut back)).unwrap(),
            request
        );

        // A length over the limit is refused before reading the body.
        let mut huge = Cursor::new(u32::MAX.to_le_bytes().to_vec());
        let err = block_on(codec.read_response(&PROTOCOL, &mut huge)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);

        // Garbage of a permitted length does not decode.
        let mut garbage = 5u32.to_le_bytes().to_vec();
        garbage.extend([0xff; 5]);
        let err = block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(garbage))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);

        // A body shorter than its length is an early end, not a hang.
        let mut short = 10u32.to_le_bytes().to_vec();
        short.push(1);
        let err = block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(short))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        // Writing a response over the limit fails locally.
        let big = SyncResponse::Blocks(Vec::new());
        let mut small = SyncCodec {
            max_response_size: 0,
        };
        assert!(
            block_on(small.write_response(&PROTOCOL, &mut Cursor::new(Vec::new()), big)).is_err()
        );
    }
}
