//! ferrolab-kernel: a Jupyter kernel for Rust with the ferrolab prelude preloaded.
//!
//! One binary, five roles: the kernel (`--connection-file F`), evcxr's evaluation process
//! (started by the kernel itself, see `evcxr::runtime_hook`), evcxr's cargo wrapper (see
//! `cellbuild`), rust-analyzer's cargo (see `analysis`), and the installer's helpers
//! (`prebuild`, `kernelspec DIR`).

mod analysis;
mod cellbuild;
mod complete;
mod history;
mod kernel;
mod prebuilt;
mod publish;
mod relay;
mod report;
mod session;
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
        ["--connection-file", path] | [path] if !path.starts_with('-') && *path != "prebuild" => {
            run(PathBuf::from(path))
        }
        ["prebuild"] => {
            let prebuilt = prebuilt::Prebuilt::from_env()?;
            if prebuilt.is_fresh() {
                println!("The prelude is up to date.");
            } else {
                println!("Building the prelude (the first time takes many minutes)...");
                prebuilt.build(|line| println!("  {line}"))?;
                println!("Prelude built.");
            }
            Ok(())
        }
        ["kernelspec", dir] => write_kernelspec(&PathBuf::from(dir)),
        _ => bail!("usage: ferrolab-kernel --connection-file FILE | prebuild | kernelspec DIR"),
    }
}

fn run(connection_file: PathBuf) -> Result<()> {
    let text = std::fs::read_to_string(&connection_file)
        .with_context(|| format!("reading connection file {}", connection_file.display()))?;
    let info: jupyter_protocol::ConnectionInfo =
        serde_json::from_str(&text).context("parsing the connection file")?;
    let prebuilt = prebuilt::Prebuilt::from_env()?;
    let session_dir = prebuilt.session_dir();
    // evcxr takes its working directory and config from the environment. Set them now,
    // while this process has a single thread.
    std::env::set_var("EVCXR_TMPDIR", &session_dir);
    std::env::set_var("EVCXR_CONFIG_DIR", prebuilt.home.join("evcxr-config"));
    cellbuild::install_hook(&prebuilt.home.join("bin"))?;
    analysis::install(&prebuilt.home)?;
    // Inherited by the evaluation process, whose prelude maps it (see session::Interrupter).
    std::env::set_var("FERROLAB_INTERRUPT_FILE", session_dir.join("interrupt"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (incoming, outgoing) = wire::serve(&info).await?;
        kernel::Kernel::start(prebuilt, session_dir, outgoing)
            .serve(incoming)
            .await;
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
