//! ferrolab-kernel: a Jupyter kernel for Rust with the ferrolab prelude preloaded.
//!
//! One binary, six roles: the kernel (`--connection-file F`, see `launch`), a spare session
//! waiting to become one (`spare run`, see `spare`), evcxr's evaluation process (started by
//! the kernel itself, see `evcxr::runtime_hook` and `relay`), evcxr's cargo wrapper (see
//! `cellbuild`), rust-analyzer's cargo (see `analysis`), and the installer's helpers
//! (`prebuild`, `spare start`, `spare wait`, `kernelspec DIR`, `home`).
//!
//! A request's way through: `wire` (sockets, signatures) → `dispatch` (the protocol's
//! bookkeeping) → an `interpreter::Interpreter`, here `session`'s evcxr one, whose cells'
//! output `capture` reads and `publish` sends on iopub, with errors made by `report`.

mod analysis;
mod capture;
mod cellbuild;
mod complete;
mod dispatch;
mod history;
mod interpreter;
mod interrupt;
mod launch;
mod lockfile;
mod os;
mod prebuilt;
mod publish;
mod relay;
mod report;
mod session;
mod spare;
mod syntax;
mod wire;

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::prebuilt::Prebuilt;
use crate::session::RustInterpreter;

fn main() -> Result<()> {
    // When started as evcxr's cargo wrapper or evaluation process, these never return.
    if cellbuild::invoked_as_hook() {
        cellbuild::run_hook();
    }
    if analysis::invoked_as_cargo() {
        analysis::run_as_cargo();
    }
    relay::install_in_evaluation_process();
    evcxr::runtime_hook();

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prebuild"] => {
            let prebuilt = Prebuilt::from_env()?;
            match prebuilt.stale_reason() {
                None => println!("The prelude is up to date."),
                Some(reason) => {
                    println!("{reason}");
                    prebuilt.build(|line| println!("  {line}"))?;
                    println!("Prelude built.");
                }
            }
            Ok(())
        }
        ["spare", "start"] => {
            spare::start_spare(&Prebuilt::from_env()?.home);
            Ok(())
        }
        ["spare", "wait"] => {
            println!("{}", spare::wait_for_spare(&Prebuilt::from_env()?)?);
            Ok(())
        }
        ["spare", "run"] => spare::run_spare(),
        ["kernelspec", dir] => launch::write_kernelspec(Path::new(dir)),
        ["home"] => {
            let home = ferrolab_protocol::home().context("no cache directory; set FERROLAB_HOME")?;
            println!("{}", home.display());
            Ok(())
        }
        // Any other single argument is a connection file (as ipykernel's `-f` is optional).
        ["--connection-file", path] | [path] if !path.starts_with('-') => kernel(Path::new(path)),
        _ => bail!(
            "usage: ferrolab-kernel --connection-file FILE | prebuild | spare start|wait | kernelspec DIR | home"
        ),
    }
}

/// The kernel Jupyter started with `connection_file`: a spare session's, if one waits, else
/// one of its own.
fn kernel(connection_file: &Path) -> Result<()> {
    let info = launch::read_connection_file(connection_file)?;
    os::exit_with_parent();
    let prebuilt = Prebuilt::from_env()?;
    if spare::hand_over(&prebuilt, connection_file) {
        return Ok(());
    }
    let session_dir = launch::prepare_process(&prebuilt)?;
    let wires = launch::Wires::new();
    let cell_output = wires.cell_output();
    let home = prebuilt.home.clone();
    launch::serve(&info, wires, &home.clone(), move || {
        let interpreter = RustInterpreter::start(prebuilt, session_dir, cell_output, |_| {});
        // Once this session is ready and idle, the next kernel's can start getting ready.
        interpreter.when_idle(move || spare::start_spare(&home));
        interpreter
    })
}
