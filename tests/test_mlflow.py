"""MLflow as the team backend, against a real MLflow tracking server (install/mlflow: MLflow
from PyPI, pinned, in an environment of its own) on 127.0.0.1 with a SQLite backend: runs sent
as they log and pushed later, read back through MLflow's REST API; a server that goes away
mid-run loses nothing."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import printed_values, start_in

REPO = pathlib.Path(__file__).resolve().parent.parent
# The first start installs MLflow into its own environment (about a minute).
SERVER_START_TIMEOUT = 300


class MlflowServer:
    """`mlflow server` with its database and artifacts in `folder`, on a free port."""

    def __init__(self, folder):
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        log = open(self.folder / "server.log", "a")
        self.process = subprocess.Popen(
            [REPO / "install" / "mlflow", "--port", str(self.port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.folder}/mlflow.db",
             "--artifacts-destination", str(self.folder / "artifacts")],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "server.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError((self.folder / "server.log").read_text()[-3000:])

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)

    def get(self, endpoint, **query):
        url = f"{self.uri}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.load(answer)

    def post(self, endpoint, body):
        request = urllib.request.Request(f"{self.uri}/api/2.0/mlflow/{endpoint}", method="POST",
                                         data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def run_of(self, project, local_id):
        """The MLflow run that a local run became: found by the id Ferrolab tags it with."""
        found = self.find(project, local_id)
        assert len(found) == 1, found
        return found[0]

    def find(self, project, local_id):
        try:
            experiment = self.get("experiments/get-by-name", experiment_name=project)["experiment"]
        except urllib.error.HTTPError as error:
            assert error.code == 404
            return []
        found = self.post("runs/search", {"experiment_ids": [experiment["experiment_id"]],
                                          "filter": f"tags.`ferrolab.run_id` = '{local_id}'"})
        return found.get("runs", [])

    def wait_for(self, project, local_id, done, timeout):
        """The run once `done(run, loss history)` holds: a live run is sent in the background."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(project, local_id)
            if found and done(found[0], self.history(found[0]["info"]["run_id"], "loss")):
                return found[0]
            assert time.monotonic() < deadline, found
            time.sleep(0.5)

    def history(self, run_id, metric):
        # MLflow leaves the list out of its answer while a run has no values yet.
        points = self.get("metrics/get-history", run_id=run_id, metric_key=metric,
                          max_results=25000).get("metrics", [])
        return sorted((p["step"], p["value"]) for p in points)

    def files(self, run_id):
        return sorted(f["path"] for f in self.get("artifacts/list", run_id=run_id).get("files", []))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tracked(notebook_dir, server):
    """A notebook's kernel in a course folder in git, with MLFLOW_TRACKING_URI set."""
    kernel = start_in(notebook_dir, JPY_SESSION_NAME=str(notebook_dir / "12-experiment-tracking.ipynb"),
                      MLFLOW_TRACKING_URI=server.uri)
    yield kernel
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


def tags_of(run):
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def stderr(run):
    return "".join(m["content"]["text"] for m in run.of_type("stream") if m["content"]["name"] == "stderr")


def test_a_run_is_sent_as_it_logs_with_mlflows_names(tracked, server, notebook_dir):
    run = tracked.run("""
random::seed(3);
let run = track::run("moons").name("live").tag("baseline").notes("first try")
    .config(json!({"lr": 0.01, "hidden": 16, "optimizer": {"name": "adamw"}}))
    .start()?;
for step in 0..2500 {
    run.log([("loss", 1.0 / (step as f64 + 1.0))]);
}
run.log([("diverged", f64::NAN)]);
run.finish();
println!("id \\"{}\\"", run.id());
""")
    local_id = printed_values(run)["id"]
    remote = server.run_of("moons", local_id)
    info, tags = remote["info"], tags_of(remote)
    assert info["status"] == "FINISHED" and info["run_name"] == "live" and info["end_time"] > 0
    params = {p["key"]: p["value"] for p in remote["data"]["params"]}
    assert params == {"lr": "0.01", "hidden": "16", "optimizer.name": "adamw"}
    head = subprocess.run(["git", "-C", str(notebook_dir), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert tags["mlflow.source.git.commit"] == head and tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.name"].endswith("12-experiment-tracking.ipynb")
    assert tags["mlflow.source.type"] == "NOTEBOOK" and tags["mlflow.runName"] == "live"
    assert tags["mlflow.note.content"] == "first try" and tags["baseline"] == ""
    assert tags["ferrolab.git.dirty"] == "true" and "random::seed=3" in tags["ferrolab.seeds"]
    assert tags["ferrolab.rustc"].startswith("rustc 1.") and len(tags["ferrolab.lock_sha256"]) == 64

    # 2500 values, more than one request may carry: every one arrives, once.
    assert server.history(info["run_id"], "loss") == [(s, pytest.approx(1 / (s + 1))) for s in range(2500)]
    assert server.history(info["run_id"], "diverged") == [(2500, "NaN")]
    assert "git.diff" in server.files(info["run_id"])

    # The card links to the run's page in MLflow's UI.
    card = run.of_type("update_display_data")[-1]["content"]["data"]
    page = f"{server.uri}/#/experiments/{info['experiment_id']}/runs/{info['run_id']}"
    assert f"MLflow: {page}" in card["text/plain"] and f'href="{page}"' in card["text/html"]


def test_a_sweeps_trials_are_children_of_its_run(tracked, server):
    run = tracked.run("""
let sweep = track::sweep("mlflow-sweep").grid("lr", [0.1, 0.01]).minimize("loss")
    .run(|run| {
        for epoch in 0..3 { run.log([("loss", run.config_value::<f64>("lr") / (epoch + 1) as f64)]); }
        Ok::<_, String>(())
    })?;
println!("sweep \\"{}\\"", sweep.run().id());
println!("trials {:?}", sweep.trials().iter().map(|t| t.id().to_owned()).collect::<Vec<_>>());
""")
    values = printed_values(run)
    parent = server.run_of("mlflow-sweep", values["sweep"])
    assert parent["info"]["status"] == "FINISHED" and "sweep" in tags_of(parent)
    for trial_id in values["trials"]:
        trial = server.run_of("mlflow-sweep", trial_id)
        assert tags_of(trial)["mlflow.parentRunId"] == parent["info"]["run_id"]
        assert len(server.history(trial["info"]["run_id"], "loss")) == 3


def test_runs_recorded_without_a_server_are_pushed_later_once(tracked, server, notebook_dir):
    run = tracked.run("""
track::set_tracking_uri("");
std::fs::write("weights.bin", [1u8, 2, 3])?;
let offline = track::run("later").name("offline").config(json!({"lr": 0.1})).quiet().start()?;
for step in 0..1500 { offline.log([("loss", step as f64)]); }
offline.log_artifact("weights.bin")?;
offline.finish();
track::set_tracking_uri(URI);
let first = track::sync("later")?;
let again = track::sync("later")?;
println!("id \\"{}\\"", offline.id());
println!("first {:?}", [first.runs, first.created, first.metrics, first.files]);
println!("again {:?}", [again.runs, again.created, again.metrics, again.files]);
again
""".replace("URI", json.dumps(server.uri)))
    values = printed_values(run)
    assert values["first"] == [1, 1, 1500, 2] and values["again"] == [1, 0, 0, 0]
    assert run.result() == f"later: 1 runs at {server.uri}, 0 new there; sent 0 metric values and 0 files"
    remote = server.run_of("later", values["id"])
    assert remote["info"]["status"] == "FINISHED" and remote["info"]["run_name"] == "offline"
    assert server.history(remote["info"]["run_id"], "loss") == [(s, float(s)) for s in range(1500)]
    assert server.files(remote["info"]["run_id"]) == ["git.diff", "weights.bin"]
    sent = json.loads((notebook_dir / "runs" / "later" / values["id"] / "mlflow.json").read_text())
    assert sent[server.uri]["run_id"] == remote["info"]["run_id"]


def test_a_server_that_goes_away_mid_run_loses_nothing(tracked, tmp_path):
    away = MlflowServer(tmp_path)
    away.start()
    started = tracked.run(f"""
track::set_tracking_uri({json.dumps(away.uri)});
let outage = track::run("outage").quiet().start()?;
for step in 0..100 {{ outage.log([("loss", step as f64)]); }}
std::thread::sleep(std::time::Duration::from_millis(1100));
outage.log([("loss", 100.0)]);
println!("id \\"{{}}\\"", outage.id());
""")
    local_id = printed_values(started)["id"]
    away.wait_for("outage", local_id, lambda run, loss: len(loss) == 101, timeout=30)
    away.stop()

    # The server is gone: training goes on, the run says so, and so does the cell's stderr.
    offline = tracked.run("""
for step in 101..=200 {
    outage.log([("loss", step as f64)]);
    std::thread::sleep(std::time::Duration::from_millis(25));
}
outage.finish();
outage
""")
    assert offline.status == "ok"
    assert f"MLflow at {away.uri} is unreachable" in stderr(offline)
    assert "The run is kept in runs/outage/" in stderr(offline) and "track::sync" in stderr(offline)
    assert "MLflow: not sent yet, kept here and tried again" in offline.result()

    # Back again: what was kept arrives by itself, and the run ends there as it did here.
    away.start()
    remote = away.wait_for("outage", local_id, lambda run, loss: run["info"]["status"] == "FINISHED",
                           timeout=90)
    assert away.history(remote["info"]["run_id"], "loss") == [(s, float(s)) for s in range(201)]
    away.stop()


def test_mistakes_with_servers_say_what_to_do(tracked):
    wrong_uri = tracked.run('track::set_tracking_uri("file:./mlruns");')
    assert "tracking URI `file:./mlruns`: Ferrolab sends runs to an MLflow tracking server" in wrong_uri.error()["evalue"]
    no_server = tracked.run('''
track::set_tracking_uri("");
track::run("unsent").quiet().start()?.finish();
track::sync("unsent")?;
''')
    assert "no MLflow server to send to: `track::set_tracking_uri(" in no_server.error()["evalue"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    nobody = tracked.run(f'track::set_tracking_uri("{closed}"); track::sync("unsent")?;')
    message = nobody.error()["evalue"]
    assert f"MLflow at {closed} is unreachable (" in message and "refused" in message.lower()
    missing = tracked.run(f'track::set_tracking_uri("{closed}"); track::sync("nosuch")?;')
    assert "no runs of `nosuch` in runs" in missing.error()["evalue"]


def test_the_tracking_lesson_with_a_server_set_sends_every_run(server, tmp_path):
    """Lesson 12 run as a learner with MLflow would (MLFLOW_TRACKING_URI set): every run it
    records is on the server as it logged it, and its last cell finds nothing left to send."""
    lesson = tmp_path / "12-experiment-tracking.ipynb"
    lesson.write_bytes((REPO / "notebooks" / lesson.name).read_bytes())
    subprocess.run([REPO / ".venv" / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--inplace", "--ExecutePreprocessor.timeout=600", lesson],
                   check=True, cwd=tmp_path, env={**os.environ, "MLFLOW_TRACKING_URI": server.uri})
    cells = {cell["metadata"]["tags"][0]: cell for cell in json.loads(lesson.read_text())["cells"]
             if cell["metadata"].get("tags")}
    printed = "".join("".join(o.get("text", "")) for o in cells["mlflow"]["outputs"])
    local = sorted((tmp_path / "runs" / "moons").glob("*/run.json"))
    assert f"moons: {len(local)} runs at {server.uri}, 0 new there; sent 0 metric values" in printed

    experiment = server.get("experiments/get-by-name", experiment_name="moons")["experiment"]
    everything = server.post("runs/search", {"experiment_ids": [experiment["experiment_id"]],
                                             "max_results": 100})["runs"]
    # The experiment also holds the other tests' runs of `moons`: the lesson's are its own ids.
    ids = {path.parent.name for path in local}
    remote = [run for run in everything if tags_of(run)["ferrolab.run_id"] in ids]
    assert len(remote) == len(local) == 9  # the baseline, the sweep and its 6 trials, the rerun
    by_name = {run["info"]["run_name"]: run for run in remote}
    baseline = by_name["baseline"]
    assert len(server.history(baseline["info"]["run_id"], "train_loss")) == 30
    sweep = by_name["lr × width"]
    trials = [run for run in remote if tags_of(run).get("mlflow.parentRunId") == sweep["info"]["run_id"]]
    assert len(trials) == 6 and all(run["info"]["status"] == "FINISHED" for run in remote)
    serving = server.get("experiments/get-by-name", experiment_name="moons-serving")["experiment"]
    assert server.post("runs/search", {"experiment_ids": [serving["experiment_id"]]})["runs"]
