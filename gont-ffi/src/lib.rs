//! `libgont_vm`: the GONT VM as a C library. One [`GontVm`] runs one chain
//! over a redb data directory with no consensus and no network
//! ([`gont_node::standalone`]): Ethereum JSON-RPC requests go in as
//! strings, blocks are sealed when the embedder says so.
//!
//! Rules at the boundary: no panic crosses it (each entry point catches
//! one and reports it as an error); NULL pointers and strings that are not
//! UTF-8 are errors, never crashes; an error is described by
//! [`gont_vm_last_error`], per thread. `build.rs` writes the C header
//! (`gont_vm.h`) from these items with cbindgen.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use gont_core::Genesis;
use gont_node::standalone::Standalone;

/// A GONT VM over one data directory: one chain, its pool and its
/// JSON-RPC. Thread safety: every function may be called from any thread,
/// and calls on one `GontVm` from several threads at once are safe
/// (sealing is serialised inside), but for `gont_vm_close`, which must be
/// the last call on it.
pub struct GontVm {
    vm: Standalone,
    runtime: tokio::runtime::Runtime,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_error(message: impl Into<String>) {
    let message = message.into().replace('\0', " ");
    let message = CString::new(message).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(message));
}

fn clear_error() {
    LAST_ERROR.with(|e| *e.borrow_mut() = None);
}

/// Runs `f`, turning a panic into an error.
fn guarded<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Option<T> {
    clear_error();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Some(value),
        Ok(Err(message)) => {
            set_error(message);
            None
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".to_owned());
            set_error(format!("{name}: internal error (a panic: {what})"));
            None
        }
    }
}

/// A C string argument as UTF-8.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the call.
unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, String> {
    if ptr.is_null() {
        return Err(format!("{what} is NULL"));
    }
    // SAFETY: not NULL, and the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes
        .to_str()
        .map_err(|e| format!("{what} is not UTF-8: {e}"))
}

fn into_c(s: String) -> Result<*mut c_char, String> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| "the answer holds a NUL byte".to_owned())
}

/// Opens or creates a VM over `data_dir`. `config_json` is a GONT genesis
/// (the JSON `gont init` writes; `gont_vm_development_genesis` gives one):
/// its accounts, chain id and parameters; the VM runs its GONT Space chain.
/// A directory created from another genesis is refused. Returns NULL on
/// error, with `gont_vm_last_error()`.
///
/// # Safety
/// `data_dir` and `config_json` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gont_vm_open(
    data_dir: *const c_char,
    config_json: *const c_char,
) -> *mut GontVm {
    guarded("gont_vm_open", || {
        // SAFETY: the caller's contract, passed on.
        let dir = unsafe { text(data_dir, "data_dir") }?;
        // SAFETY: as above.
        let config = unsafe { text(config_json, "config_json") }?;
        let genesis = Genesis::from_json(config).map_err(|e| format!("config_json: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gont-vm")
            .enable_all()
            .build()
            .map_err(|e| format!("starting the VM's runtime: {e}"))?;
        let vm = Standalone::open(Path::new(dir), &genesis, None, gont_node::wall_clock())
            .map_err(|e| format!("{dir}: {e}"))?;
        Ok(Box::into_raw(Box::new(GontVm { vm, runtime })))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// One Ethereum JSON-RPC request or batch in, the response out (free it
/// with `gont_vm_string_free`). Every `eth_` method of the node's RPC
/// works, `eth_sendRawTransaction` included (it enters the pool; the next
/// `gont_vm_seal` includes it); subscriptions need a WebSocket and are
/// answered with an error (poll `eth_newFilter` instead). A malformed
/// request gets a JSON-RPC error object, not NULL; NULL only when `vm` or
/// the request is NULL or not UTF-8, with `gont_vm_last_error()`.
///
/// # Safety
/// `vm` is NULL or a live handle from `gont_vm_open`; `request_json` is
/// NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gont_vm_rpc(vm: *mut GontVm, request_json: *const c_char) -> *mut c_char {
    guarded("gont_vm_rpc", || {
        // SAFETY: NULL or a live handle, by the caller's contract; only
        // shared access is taken.
        let vm = unsafe { vm.as_ref() }.ok_or("vm is NULL")?;
        // SAFETY: the caller's contract, passed on.
        let request = unsafe { text(request_json, "request_json") }?;
        into_c(vm.runtime.block_on(vm.vm.rpc(request)))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Seals a block of the pending transactions (empty if there are none)
/// and commits it; returns its height, or -1 with `gont_vm_last_error()`.
///
/// # Safety
/// `vm` is NULL or a live handle from `gont_vm_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gont_vm_seal(vm: *mut GontVm) -> i64 {
    guarded("gont_vm_seal", || {
        // SAFETY: NULL or a live handle, by the caller's contract.
        let vm = unsafe { vm.as_ref() }.ok_or("vm is NULL")?;
        let block = vm.vm.seal().map_err(|e| e.to_string())?;
        i64::try_from(block.block.header.height.0).map_err(|e| e.to_string())
    })
    .unwrap_or(-1)
}

/// A development genesis (chain 31337, the first twenty accounts of the
/// mnemonic `test test … junk` funded with 10 000 ether, one validator),
/// its time now: a `config_json` for `gont_vm_open`. Free it with
/// `gont_vm_string_free`.
#[unsafe(no_mangle)]
pub extern "C" fn gont_vm_development_genesis() -> *mut c_char {
    guarded("gont_vm_development_genesis", || {
        let mut genesis = Genesis::devnet(1, 0);
        genesis.genesis_time = gont_node::wall_clock();
        into_c(genesis.to_json())
    })
    .unwrap_or(std::ptr::null_mut())
}

/// The last error on this thread, or NULL if the last call succeeded. The
/// string stays valid until the next call into the library on this
/// thread; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn gont_vm_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ref().map_or(std::ptr::null(), |s| s.as_ptr()))
}

/// Frees a string returned by the library. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string returned by `gont_vm_rpc` or
/// `gont_vm_development_genesis`, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gont_vm_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: made by `CString::into_raw` in this library, freed once.
    drop(unsafe { CString::from_raw(s) });
}

/// Closes the VM: the data directory is left consistent (every sealed
/// block is on disk) and the handle is freed. NULL is ignored.
///
/// # Safety
/// `vm` is NULL or a live handle from `gont_vm_open`, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gont_vm_close(vm: *mut GontVm) {
    if vm.is_null() {
        return;
    }
    let _ = guarded("gont_vm_close", || {
        // SAFETY: made by `Box::into_raw` in `gont_vm_open`, freed once.
        let vm = unsafe { Box::from_raw(vm) };
        let GontVm { vm, runtime } = *vm;
        drop(vm);
        runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        Ok(())
    });
}
