//! Starting a kernel: the process set up for evcxr, the sockets bound, an interpreter and
//! the dispatcher wired together; and the kernelspec the installer registers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use jupyter_protocol::ConnectionInfo;
use tokio::sync::mpsc;

use crate::dispatch::Dispatcher;
use crate::history::History;
use crate::interpreter::{CellOutput, Interpreter};
use crate::prebuilt::Prebuilt;
use crate::publish::Publisher;
use crate::wire::Outbound;

/// The channel every outbound message goes through, and the publisher on it.
pub struct Wires {
    out: mpsc::UnboundedSender<Outbound>,
    outbound: mpsc::UnboundedReceiver<Outbound>,
    publisher: Arc<Publisher>,
}

impl Wires {
    pub fn new() -> Self {
        let (out, outbound) = mpsc::unbounded_channel();
        let publisher = Arc::new(Publisher::new(out.clone()));
        Wires {
            out,
            outbound,
            publisher,
        }
    }

    /// Where a session sends its cells' output (also before the sockets exist: a spare
    /// session is made before its connection file is known).
    pub fn cell_output(&self) -> impl Fn(CellOutput) + Send + Sync + 'static {
        let publisher = self.publisher.clone();
        move |output| publisher.output(output)
    }
}

/// Binds the connection file's sockets, then serves the interpreter `interpreter` makes
/// (after binding: a session that starts loading slows the binding down) until a shutdown
/// request ends the process. The history in `home` is read once the kernel serves.
pub fn serve<I: Interpreter>(
    info: &ConnectionInfo,
    wires: Wires,
    home: &Path,
    interpreter: impl FnOnce() -> I,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let incoming = crate::wire::serve(info, wires.outbound).await?;
        let interpreter = Arc::new(interpreter());
        interrupt_on_sigint(interpreter.clone());
        let history = History::open(home.join("history.jsonl"));
        Dispatcher::new(interpreter, wires.publisher, wires.out, history)
            .serve(incoming)
            .await;
        Ok(())
    })
}

/// SIGINT (a terminal's Ctrl-C, or a client in signal mode) works like interrupt_request.
fn interrupt_on_sigint(interpreter: Arc<impl Interpreter>) {
    use tokio::signal::unix::{signal, SignalKind};
    if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
        tokio::spawn(async move {
            while sigint.recv().await.is_some() {
                interpreter.interrupt();
            }
        });
    }
}

pub fn read_connection_file(path: &Path) -> Result<ConnectionInfo> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading connection file {}", path.display()))?;
    serde_json::from_str(&text).context("parsing the connection file")
}

/// Sets up what a kernel process needs before any thread starts; returns its session folder.
pub fn prepare_process(prebuilt: &Prebuilt) -> Result<PathBuf> {
    let session_dir = prebuilt.session_dir();
    // evcxr takes its working directory and config from the environment. Set them now,
    // while this process has a single thread.
    std::env::set_var("EVCXR_TMPDIR", &session_dir);
    std::env::set_var("EVCXR_CONFIG_DIR", prebuilt.home.join("evcxr-config"));
    crate::cellbuild::install_hook(&prebuilt.home.join("bin"))?;
    crate::analysis::install(&prebuilt.home)?;
    crate::lockfile::install(&prebuilt.lock_path());
    // Inherited by the evaluation process, whose prelude maps it (see interrupt.rs).
    std::env::set_var(
        ferrolab_protocol::env::INTERRUPT_FILE,
        session_dir.join("interrupt"),
    );
    Ok(session_dir)
}

/// Writes kernel.json for this binary; the installer adds the logos and registers the folder.
pub fn write_kernelspec(dir: &Path) -> Result<()> {
    let prebuilt = Prebuilt::from_env()?;
    let exe = std::env::current_exe()?;
    let spec = serde_json::json!({
        "argv": [exe, "--connection-file", "{connection_file}"],
        "display_name": "Rust (Ferrolab)",
        "language": "rust",
        "interrupt_mode": "message",
        "env": {ferrolab_protocol::env::PRELUDE: prebuilt.source},
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
