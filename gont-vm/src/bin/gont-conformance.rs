//! `gont-conformance statetest|txtest PATH`: runs Ethereum's
//! GeneralStateTests or TransactionTests under PATH through gont-vm and
//! exits non-zero if any case fails.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(path), None) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: gont-conformance statetest|txtest PATH");
        return ExitCode::from(2);
    };
    let path = Path::new(path);
    let mut out = std::io::stdout().lock();
    let result = match kind.as_str() {
        "statetest" => gont_vm::conformance::statetest::run(path, &mut out),
        "txtest" => gont_vm::conformance::txtest::run(path, &mut out),
        other => {
            eprintln!("unknown suite {other:?}: use statetest or txtest");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("gont-conformance: {e}");
            ExitCode::FAILURE
        }
    }
}
