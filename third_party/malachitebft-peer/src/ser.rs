#[cfg(feature = "borsh")]
mod borsh;
