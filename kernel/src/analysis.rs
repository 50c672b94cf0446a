//! What rust-analyzer sees. evcxr runs rust-analyzer inside the kernel to infer the types of
//! the variables a cell defines; its start-up cost grows with the crate graph it loads from
//! `cargo metadata`, and the prelude's graph is ~400 crates (polars alone brings tokio, an
//! HTTP client, TLS and compression codecs). A cell can only meet a few of those crates' types,
//! so rust-analyzer is given the graph a cell can name: the session's own crates and
//! everything a `:dep` brings in full, but of the prelude's dependencies only its direct
//! ones (less those its `[package.metadata.ferrolab] cell-hidden-crates` keeps inside, such as
//! the HTTP client tracking uses) and the crates listed in its `cell-visible-crates`.
//! Measured: 398 → 61 crates (165 → 42 MB of source), the first cell of a fresh kernel
//! 36 s → 20 s (docs/performance.md).
//!
//! rust-analyzer runs `$CARGO_HOME/bin/cargo metadata`, so the kernel points CARGO_HOME at a
//! folder whose `cargo` is this binary. Everything else must keep the real CARGO_HOME (a cargo
//! with another home would rebuild the prelude): every cargo this binary starts gets it back
//! from [`restore_cargo_home`].

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Result;
use serde_json::Value;

/// The real CARGO_HOME, kept while CARGO_HOME points at the analysis folder.
const REAL_CARGO_HOME: &str = "FERROLAB_CARGO_HOME";
/// The prelude's crate name, whose dependencies are filtered.
const PRELUDE: &str = "ferrolab";

/// Points rust-analyzer's cargo at this binary. Call while single-threaded.
pub fn install(home: &Path) -> Result<()> {
    crate::os::link_to_this_binary(&home.join("analysis/bin"), "cargo")?;
    std::env::set_var(REAL_CARGO_HOME, real_cargo_home());
    std::env::set_var("CARGO_HOME", home.join("analysis"));
    Ok(())
}

/// The CARGO_HOME cargo must run with.
pub fn real_cargo_home() -> OsString {
    std::env::var_os(REAL_CARGO_HOME)
        .or_else(|| std::env::var_os("CARGO_HOME"))
        .unwrap_or_else(|| dirs::home_dir().unwrap_or_default().join(".cargo").into())
}

/// Gives a child process (and the cargo it may run) the real CARGO_HOME. Here, beside
/// `install`, because this module is what changed CARGO_HOME: every module that starts a
/// process undoes it through this one function.
pub fn restore_cargo_home(command: &mut Command) -> &mut Command {
    command.env("CARGO_HOME", real_cargo_home())
}

/// True when rust-analyzer started this binary as its cargo.
pub fn invoked_as_cargo() -> bool {
    std::env::args_os()
        .next()
        .and_then(|arg0| Path::new(&arg0).file_name().map(|n| n == "cargo"))
        .unwrap_or(false)
}

/// Runs the real cargo with rust-analyzer's arguments, filtering `cargo metadata`'s graph.
pub fn run_as_cargo() -> ! {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Err(error) = crate::lockfile::pin_session(&manifest_dir(&args)) {
        eprintln!("ferrolab: {error:#}");
    }
    let home = PathBuf::from(real_cargo_home());
    let cargo = Some(home.join("bin/cargo"))
        .filter(|c| c.exists())
        .unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    restore_cargo_home(command.args(&args));
    let wants_graph =
        args.iter().any(|a| a == "metadata") && !args.iter().any(|a| a == "--no-deps");
    let code = if wants_graph {
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        match command.output() {
            Ok(output) if output.status.success() => {
                let filtered = serde_json::from_slice(&output.stdout)
                    .map(|mut metadata| {
                        cell_visible_graph(&mut metadata);
                        serde_json::to_vec(&metadata).unwrap_or_default()
                    })
                    .unwrap_or(output.stdout);
                let _ = std::io::stdout().write_all(&filtered);
                0
            }
            Ok(output) => {
                let _ = std::io::stdout().write_all(&output.stdout);
                output.status.code().unwrap_or(101)
            }
            Err(error) => {
                eprintln!("ferrolab: running cargo: {error}");
                101
            }
        }
    } else {
        command.status().ok().and_then(|s| s.code()).unwrap_or(101)
    };
    std::process::exit(code)
}

/// The folder of the manifest cargo is asked about (rust-analyzer passes `--manifest-path F`).
fn manifest_dir(args: &[OsString]) -> PathBuf {
    let manifest = args.iter().skip_while(|a| *a != "--manifest-path").nth(1);
    match manifest.map(Path::new).and_then(Path::parent) {
        Some(dir) => dir.to_path_buf(),
        None => std::env::current_dir().unwrap_or_default(),
    }
}

/// Drops from `cargo metadata` output the crates no cell can name (see the module comment).
fn cell_visible_graph(metadata: &mut Value) {
    let array = |value: &Value, field: &str| value[field].as_array().cloned().unwrap_or_default();
    let packages: HashMap<String, Value> = array(metadata, "packages")
        .into_iter()
        .filter_map(|p| Some((p["id"].as_str()?.to_owned(), p)))
        .collect();
    let Some(prelude) = packages
        .values()
        .find(|p| p["name"] == PRELUDE && p["source"].is_null())
    else {
        return; // not a session's graph (e.g. the standard library's): leave it whole
    };
    let listed = |list: &str, name: &str| {
        prelude["metadata"]["ferrolab"][list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == pattern,
            })
    };
    let has = |value: &Value, field: &str, wanted: &str| {
        value[field]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v == wanted)
    };
    let is_proc_macro = |package: &Value| {
        package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|target| has(target, "kind", "proc-macro"))
    };
    let nodes: HashMap<String, Value> = array(&metadata["resolve"], "nodes")
        .into_iter()
        .filter_map(|n| Some((n["id"].as_str()?.to_owned(), n)))
        .collect();

    // Walk the normal (not build, not dev) dependencies from the session's own crates.
    // A crate reached only through the prelude has its dependencies filtered; one that a
    // `:dep` also reaches keeps them all.
    let mut visited: HashSet<(String, bool)> = HashSet::new();
    let mut stack: Vec<(String, bool)> = packages
        .iter()
        .filter(|(_, p)| p["source"].is_null())
        .map(|(id, _)| (id.clone(), false))
        .collect();
    while let Some((id, below_prelude)) = stack.pop() {
        if visited.contains(&(id.clone(), false)) || !visited.insert((id.clone(), below_prelude)) {
            continue;
        }
        let is_prelude = packages[&id]["name"] == PRELUDE;
        let Some(node) = nodes.get(&id) else {
            continue;
        };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            let Some((dep_id, package)) = dep["pkg"]
                .as_str()
                .and_then(|dep_id| Some((dep_id, packages.get(dep_id)?)))
            else {
                continue;
            };
            let name = package["name"].as_str().unwrap_or_default();
            let visible = if is_prelude {
                !listed("cell-hidden-crates", name)
            } else {
                !below_prelude || listed("cell-visible-crates", name)
            };
            if normal && visible && !is_proc_macro(package) {
                stack.push((dep_id.to_owned(), below_prelude || is_prelude));
            }
        }
    }

    let kept: HashSet<String> = visited.into_iter().map(|(id, _)| id).collect();
    let is_kept = |id: &Value| id.as_str().is_some_and(|id| kept.contains(id));
    // Filter the original arrays, which keeps cargo's order.
    let keep_in = |list: &mut Value, field: Option<&str>| {
        if let Some(items) = list.as_array_mut() {
            items.retain(|item| is_kept(field.map_or(item, |f| &item[f])));
        }
    };
    keep_in(&mut metadata["packages"], Some("id"));
    keep_in(&mut metadata["resolve"]["nodes"], Some("id"));
    for node in metadata["resolve"]["nodes"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        keep_in(&mut node["deps"], Some("pkg"));
        keep_in(&mut node["dependencies"], None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package(name: &str, path: bool, kind: &str) -> Value {
        json!({"id": name, "name": name, "source": if path { Value::Null } else { json!("registry") },
               "targets": [{"kind": [kind]}],
               "metadata": {"ferrolab": {"cell-visible-crates": ["polars-*", "half"],
                                         "cell-hidden-crates": ["reqwest"]}}})
    }

    fn node(id: &str, deps: &[(&str, Option<&str>)]) -> Value {
        let deps: Vec<Value> = deps
            .iter()
            .map(|(pkg, kind)| json!({"pkg": pkg, "dep_kinds": [{"kind": kind}]}))
            .collect();
        let ids: Vec<&str> = deps.iter().filter_map(|d| d["pkg"].as_str()).collect();
        json!({"id": id, "deps": deps, "dependencies": ids})
    }

    fn names(metadata: &Value) -> Vec<&str> {
        let mut names: Vec<&str> = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn prelude_dependencies_are_cut_to_the_visible_ones_and_a_dep_keeps_all_of_its() {
        let mut metadata = json!({
            "packages": [
                package("ctx", true, "cdylib"), package("ferrolab", true, "dylib"),
                package("polars", false, "lib"), package("polars-core", false, "lib"),
                package("half", false, "lib"), package("tokio", false, "lib"),
                package("mio", false, "lib"), package("serde_derive", false, "proc-macro"),
                package("cc", false, "lib"), package("regex", false, "lib"),
                package("reqwest", false, "lib"),
            ],
            "resolve": {"root": "ctx", "nodes": [
                node("ctx", &[("ferrolab", None), ("regex", None)]),
                node("ferrolab", &[("polars", None), ("serde_derive", None), ("cc", Some("build")),
                                   ("reqwest", None)]),
                node("polars", &[("polars-core", None), ("tokio", None)]),
                node("polars-core", &[("half", None), ("tokio", None)]),
                node("half", &[]),
                node("tokio", &[("mio", None)]),
                node("mio", &[]),
                node("serde_derive", &[]),
                node("cc", &[]),
                node("reqwest", &[]),
                // A `:dep` that needs tokio gets it with its own dependencies.
                node("regex", &[("tokio", None)]),
            ]}
        });
        cell_visible_graph(&mut metadata);
        assert_eq!(
            names(&metadata),
            [
                "ctx",
                "ferrolab",
                "half",
                "mio",
                "polars",
                "polars-core",
                "regex",
                "tokio"
            ]
        );
        let polars = &metadata["resolve"]["nodes"].as_array().unwrap()[2];
        assert_eq!(polars["dependencies"], json!(["polars-core", "tokio"]));

        // Without the `:dep`, tokio is not visible through the prelude.
        metadata["resolve"]["nodes"][0] = node("ctx", &[("ferrolab", None)]);
        cell_visible_graph(&mut metadata);
        assert_eq!(
            names(&metadata),
            ["ctx", "ferrolab", "half", "polars", "polars-core"]
        );
    }

    #[test]
    fn a_graph_without_the_prelude_is_left_whole() {
        let mut metadata = json!({
            "packages": [package("std", true, "lib"), package("hashbrown", false, "lib")],
            "resolve": {"root": null, "nodes": [node("std", &[("hashbrown", None)]), node("hashbrown", &[])]}
        });
        let before = metadata.clone();
        cell_visible_graph(&mut metadata);
        assert_eq!(metadata, before);
    }
}
