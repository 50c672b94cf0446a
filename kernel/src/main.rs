//! ferrolab-kernel: a Jupyter kernel for Rust with the ferrolab prelude preloaded.
//!
//! One binary, six roles: the kernel (`--connection-file F`), a spare session waiting to become
//! one (`spare`, see `standby`), evcxr's evaluation process (started by the kernel itself, see
//! `evcxr::runtime_hook`), evcxr's cargo wrapper (see `cellbuild`), rust-analyzer's cargo
//! (see `analysis`), and the installer's helpers (`prebuild`, `standby`, `kernelspec DIR`).

mod analysis;
mod cellbuild;
mod complete;
mod history;
mod kernel;
mod lockfile;
mod prebuilt;
mod publish;
mod relay;
mod report;
mod session;
mod standby;
mod syntax;
mod wire;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

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
            let prebuilt = prebuilt::Prebuilt::from_env()?;
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
        ["standby"] => {
            standby::start_spare(&prebuilt::Prebuilt::from_env()?.home);
            Ok(())
        }
        ["standby", "--wait"] => {
            println!("{}", standby::wait_for_spare(&prebuilt::Prebuilt::from_env()?)?);
            Ok(())
        }
        [standby::SPARE_ROLE] => standby::run_spare(),
        ["kernelspec", dir] => write_kernelspec(&PathBuf::from(dir)),
        // Any other single argument is a connection file (as ipykernel's `-f` is optional).
        ["--connection-file", path] | [path] if !path.starts_with('-') => run(PathBuf::from(path)),
        _ => bail!(
            "usage: ferrolab-kernel --connection-file FILE | prebuild | standby [--wait] | kernelspec DIR"
        ),
    }
}

fn run(connection_file: PathBuf) -> Result<()> {
    let info = read_connection_file(&connection_file)?;
    let prebuilt = prebuilt::Prebuilt::from_env()?;
    if standby::hand_over(&prebuilt, &connection_file) {
        return Ok(());
    }
    let home = prebuilt.home.clone();
    let session_dir = prepare_process(&prebuilt)?;
    let (out, outgoing) = tokio::sync::mpsc::unbounded_channel();
    serve(&info, outgoing, move || {
        let kernel = kernel::Kernel::start(prebuilt, session_dir, out, |_| {});
        // Once this session is ready and idle, the next kernel's can start getting ready.
        kernel.when_idle(move || standby::start_spare(&home));
        kernel
    })
}

fn read_connection_file(path: &std::path::Path) -> Result<jupyter_protocol::ConnectionInfo> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading connection file {}", path.display()))?;
    serde_json::from_str(&text).context("parsing the connection file")
}

/// Sets up what a kernel process needs before any thread starts; returns its session folder.
fn prepare_process(prebuilt: &prebuilt::Prebuilt) -> Result<PathBuf> {
    let session_dir = prebuilt.session_dir();
    // evcxr takes its working directory and config from the environment. Set them now,
    // while this process has a single thread.
    std::env::set_var("EVCXR_TMPDIR", &session_dir);
    std::env::set_var("EVCXR_CONFIG_DIR", prebuilt.home.join("evcxr-config"));
    cellbuild::install_hook(&prebuilt.home.join("bin"))?;
    analysis::install(&prebuilt.home)?;
    lockfile::install(&prebuilt.lock_path());
    // Inherited by the evaluation process, whose prelude maps it (see session::Interrupter).
    std::env::set_var("FERROLAB_INTERRUPT_FILE", session_dir.join("interrupt"));
    Ok(session_dir)
}

/// Binds the connection file's sockets, then serves the kernel `kernel` makes (after binding:
/// a session that starts loading slows the binding down) until it shuts down.
fn serve(
    info: &jupyter_protocol::ConnectionInfo,
    outgoing: tokio::sync::mpsc::UnboundedReceiver<wire::Outgoing>,
    kernel: impl FnOnce() -> kernel::Kernel,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let incoming = wire::serve(info, outgoing).await?;
        kernel().serve(incoming).await;
        Ok(())
    })
}

/// Makes `dir/name` a symlink to this binary, which tells its role by the name it was run as.
fn link_to_this_binary(dir: &std::path::Path, name: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let link = dir.join(name);
    let exe = std::env::current_exe()?;
    if std::fs::read_link(&link).ok().as_deref() != Some(exe.as_path()) {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&exe, &link)
            .with_context(|| format!("linking {}", link.display()))?;
    }
    Ok(())
}

/// Writes kernel.json for this binary; the installer adds the logos and registers the folder.
fn write_kernelspec(dir: &std::path::Path) -> Result<()> {
    let prebuilt = prebuilt::Prebuilt::from_env()?;
    let exe = std::env::current_exe()?;
    let spec = serde_json::json!({
        "argv": [exe, "--connection-file", "{connection_file}"],
        "display_name": "Rust (Ferrolab)",
        "language": "rust",
        "interrupt_mode": "message",
        "env": {"FERROLAB_PRELUDE": prebuilt.source},
        "metadata": {"debugger": false}
    });
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("kernel.json"),
        serde_json::to_string_pretty(&spec)?,
    )
    .with_context(|| format!("writing {}/kernel.json", dir.display()))?;
    Ok(())
}
