use std::marker::PhantomData;

use tokio_util::codec::{Decoder, Encoder};

use bytes::{BufMut, BytesMut};

pub struct Decode<M> {
    state: DecodeState,
    _marker: PhantomData<M>,
}

impl<M> Default for Decode<M> {
    fn default() -> Self {
        Self {
            state: DecodeState::Head,
            _marker: PhantomData,
        }
    }
}

/// GONT patch: the largest message accepted, in bytes. A length prefix
/// above it is an error at once, before anything is buffered (upstream
/// buffered whatever length the prefix announced).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// GONT patch: a length prefix above [`MAX_MESSAGE_BYTES`].
#[derive(Debug)]
pub struct TooLarge(pub u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a message of {} bytes exceeds the limit of {MAX_MESSAGE_BYTES}",
            self.0
        )
    }
}

impl std::error::Error for TooLarge {}

#[derive(Debug)]
enum DecodeState {
    Head,
    Body { len: usize },
}

impl<M: prost::Message + Default> Decoder for Decode<M> {
    type Item = M;
    type Error = crate::BoxError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        match self.state {
            DecodeState::Head => {
                tracing::trace!(?src, "decoding head");
                // we don't use decode_varint directly, because it advances the
                // buffer regardless of success, but Decoder assumes that when
                // the buffer advances we've consumed the data. this is sort of
                // a sad hack, but it works.
                // TODO(erwan): fix this

                // Tendermint socket protocol:
                //   "Messages are serialized using Protobuf3 and length-prefixed
                //    with an unsigned varint"
                // See: https://github.com/tendermint/tendermint/blob/v0.38.x/spec/abci/abci++_client_server.md#socket
                let mut tmp = src.clone().freeze();
                let len = match prost::encoding::decode_varint(&mut tmp) {
                    Ok(len) => {
                        // GONT patch: refuse an oversized message before
                        // buffering it; advance the real buffer without
                        // unwrap (the varint was just read).
                        if len > MAX_MESSAGE_BYTES as u64 {
                            return Err(Box::new(TooLarge(len)));
                        }
                        let consumed = src.len() - tmp.len();
                        let _ = src.split_to(consumed);
                        len as usize
                    }
                    // GONT patch: ten bytes and still no varint is garbage,
                    // not a prefix still arriving.
                    Err(e) if src.len() >= 10 => return Err(Box::new(e)),
                    Err(_) => {
                        tracing::trace!(?self.state, src.len = src.len(), "waiting for header data");
                        return Ok(None);
                    }
                };
                self.state = DecodeState::Body { len };
                tracing::trace!(?self.state, "ready for body");

                // Recurse to attempt body decoding.
                self.decode(src)
            }
            DecodeState::Body { len } => {
                if src.len() < len {
                    tracing::trace!(?self.state, src.len = src.len(), "waiting for body");
                    return Ok(None);
                }

                let body = src.split_to(len);
                tracing::trace!(?body, "decoding body");
                let message = M::decode(body)?;

                // Now reset the decoder state for the next message.
                self.state = DecodeState::Head;

                Ok(Some(message))
            }
        }
    }
}

pub struct Encode<M> {
    _marker: PhantomData<M>,
}

impl<M> Default for Encode<M> {
    fn default() -> Self {
        Self {
            _marker: PhantomData,
        }
    }
}

impl<M: prost::Message + Sized + std::fmt::Debug> Encoder<M> for Encode<M> {
    type Error = crate::BoxError;

    fn encode(&mut self, item: M, dst: &mut BytesMut) -> Result<(), Self::Error> {
        let mut buf = BytesMut::new();
        item.encode(&mut buf)?;
        let buf = buf.freeze();

        // Tendermint socket protocol:
        //   "Messages are serialized using Protobuf3 and length-prefixed
        //    with an unsigned varint"
        // See: https://github.com/tendermint/tendermint/blob/v0.38.x/spec/abci/abci++_client_server.md#socket
        prost::encoding::encode_varint(buf.len() as u64, dst);
        dst.put(buf);

        Ok(())
    }
}
