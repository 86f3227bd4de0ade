pub mod error;
pub mod future;
mod message;
mod service;
mod worker;

pub use self::service::Buffer;
