//! Writes `gont_vm.h`, the C header of `libgont_vm`, with cbindgen from
//! `src/lib.rs` into `OUT_DIR` (the tests compile C against it; `cargo
//! xtask dist` ships it beside the libraries).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR")?;
    let out = std::env::var("OUT_DIR")?;
    println!("cargo:rerun-if-changed=src/lib.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))?;
    // The one source file, not the crate: `with_crate` runs `cargo
    // metadata`, which resolves gont-node from the registry when this is
    // built from its package, and the header needs none of it.
    let header = cbindgen::Builder::new()
        .with_src(format!("{crate_dir}/src/lib.rs"))
        .with_config(config)
        .generate()?;
    header.write_to_file(format!("{out}/gont_vm.h"));
    Ok(())
}
