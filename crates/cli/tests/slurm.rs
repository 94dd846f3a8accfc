//! `expost sweep slurm` on a real single-node Slurm cluster: the test
//! starts its own munged, slurmctld and slurmd (as root, on 127.0.0.1, with
//! a configuration and state in a temporary folder), runs the script
//! `expost sweep slurm` prints, and checks that the merged sweep is the
//! unsharded one, byte for byte. Without root or the Slurm and MUNGE
//! programs it says why and passes, unless EXPOST_REQUIRE_SERVICES=1.

mod common;

use common::{expost, repo};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The programs the test runs.
const PROGRAMS: [&str; 6] = [
    "munged",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "scancel",
];

/// Why the cluster cannot be started here, if it cannot.
fn unavailable() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root (slurmd and munged run as root)".into());
    }
    let missing: Vec<&str> = PROGRAMS
        .into_iter()
        .filter(|p| program(p).is_none())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} not installed (apt-get install slurm-wlm munge)",
            missing.join(", ")
        )
    })
}

/// `name` in the usual folders of programs, or on PATH.
fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn slurm_available(test: &str) -> bool {
    let Some(why) = unavailable() else {
        return true;
    };
    assert!(
        std::env::var("EXPOST_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{test}: {why}, and EXPOST_REQUIRE_SERVICES=1"
    );
    eprintln!("{test}: skipped: {why}");
    false
}

/// A port free on 127.0.0.1 now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A single-node cluster: its daemons (stopped, and the folder removed,
/// when dropped, also when the test fails).
struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    /// Starts munged, slurmctld and slurmd; waits (at most 30 s) until the node is idle.
    fn start() -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("expost-slurm-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        // munged wants its socket's folder, and those above, open to all.
        set_mode(&root, 0o755);
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir(root.join(sub)).unwrap();
            set_mode(&root.join(sub), 0o755);
        }
        let key = root.join("munge/munge.key");
        let mut bytes = [0u8; 1024];
        std::io::Read::read_exact(
            &mut std::fs::File::open("/dev/urandom").unwrap(),
            &mut bytes,
        )
        .unwrap();
        std::fs::write(&key, bytes).unwrap();
        set_mode(&key, 0o400);
        let socket = root.join("munge/munge.socket");
        let conf = root.join("slurm.conf");
        std::fs::write(&conf, slurm_conf(&root, &socket)).unwrap();
        let mut cluster = Cluster {
            dir,
            conf,
            daemons: Vec::new(),
        };
        let path = |p: &str| root.join(p).display().to_string();
        cluster.spawn(
            "munged",
            &[
                "--foreground".into(),
                format!("--key-file={}", key.display()),
                format!("--socket={}", socket.display()),
                format!("--pid-file={}", path("munge/munged.pid")),
                format!("--log-file={}", path("munge/munged.log")),
                format!("--seed-file={}", path("munge/munged.seed")),
            ],
        );
        cluster.wait_for("munged's socket", |_| socket.exists());
        cluster.spawn("slurmctld", &["-D".into(), "-i".into()]);
        cluster.spawn("slurmd", &["-D".into()]);
        cluster.wait_for("the node to be idle", |c| {
            c.slurm("sinfo", &["-h", "-o", "%t"])
                .is_some_and(|s| s.trim() == "idle")
        });
        cluster
    }

    fn spawn(&mut self, name: &'static str, args: &[String]) {
        let child = Command::new(program(name).unwrap())
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.dir.path().join(format!("log/{name}.stderr"))).unwrap(),
            )
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        self.daemons.push((name, child));
    }

    /// Waits at most 30 s for `ready`; fails with the daemons' logs.
    fn wait_for(&mut self, what: &str, ready: impl Fn(&Cluster) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            for i in 0..self.daemons.len() {
                let name = self.daemons[i].0;
                if let Ok(Some(status)) = self.daemons[i].1.try_wait() {
                    panic!("{name} exited ({status}):\n{}", self.logs());
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited 30 s for {what}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A Slurm client program's stdout, when it succeeds.
    fn slurm(&self, name: &str, args: &[&str]) -> Option<String> {
        let out = Command::new(program(name)?)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The daemons' logs, for a failure's message.
    fn logs(&self) -> String {
        let mut text = String::new();
        for dir in ["log", "munge"] {
            for entry in std::fs::read_dir(self.dir.path().join(dir))
                .into_iter()
                .flatten()
                .flatten()
            {
                if let Ok(body) = std::fs::read_to_string(entry.path()) {
                    let tail: Vec<&str> = body.lines().rev().take(20).collect();
                    text.push_str(&format!("--- {}\n", entry.path().display()));
                    for line in tail.into_iter().rev() {
                        text.push_str(line);
                        text.push('\n');
                    }
                }
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Jobs still there (a failed test) go first, then the daemons, by pid.
        let _ = self.slurm("scancel", &["--user=root"]);
        for (_, child) in self.daemons.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while matches!(child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A one-node cluster on 127.0.0.1 whose state is in `root`.
fn slurm_conf(root: &Path, socket: &Path) -> String {
    let host = Command::new("hostname").arg("-s").output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout).trim().to_string();
    let r = root.display();
    format!(
        "ClusterName=expost-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES State=UP MaxTime=INFINITE
",
        ctld = free_port(),
        slurmd = free_port(),
        socket = socket.display(),
    )
}

fn profile() -> String {
    repo()
        .join("tests/fixtures/preemption/bamboo-simulation/profiling-runs/run-86")
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn a_sweep_run_as_a_slurm_array_job_merges_to_the_unsharded_sweep() {
    if !slurm_available("slurm") {
        return;
    }
    let started = Instant::now();
    let cluster = Cluster::start();
    let up = started.elapsed();
    let work = tempfile::tempdir().unwrap();
    // A name with a space and a quote, which the script must quote.
    let out_dir = work.path().join("sweep 'one'");
    let sweep = [
        "--profile",
        &profile(),
        "--rates",
        "0.05,0.3",
        "--seeds",
        "3",
        "--hours",
        "2",
        "-q",
    ];
    let mut args = vec!["sweep", "slurm"];
    args.extend(sweep);
    args.extend(["--out-dir", out_dir.to_str().unwrap(), "--shards", "4"]);
    args.extend(["--partition", "debug", "--time", "00:05:00"]);
    let out = expost(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let script = String::from_utf8(out.stdout).unwrap();
    let submitted = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("SLURM_CONF", &cluster.conf)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        submitted.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&submitted.stderr),
        cluster.logs()
    );
    let merged = out_dir.join("merged");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let queue = cluster.slurm("squeue", &["-h"]).unwrap_or_default();
        if queue.trim().is_empty() && merged.join("sweep.csv").is_file() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the jobs did not finish in 120 s; queue:\n{queue}\njob logs:\n{}\n{}",
            job_logs(&out_dir),
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let whole = work.path().join("whole");
    let mut args = vec!["sweep"];
    args.extend(sweep);
    args.extend(["-o", whole.to_str().unwrap()]);
    let out = expost(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "sweep.csv",
        "sweep.parquet",
        "points.csv",
        "optima.csv",
        "sweep.json",
        "sweep-spec.json",
    ] {
        let read = |dir: &Path| {
            std::fs::read(dir.join(name)).unwrap_or_else(|e| {
                panic!("{}: {e}\n{}", dir.join(name).display(), job_logs(&out_dir))
            })
        };
        assert!(read(&merged) == read(&whole), "{name} differs");
    }
    for i in 1..=4 {
        let spec =
            std::fs::read_to_string(out_dir.join(format!("shard-{i}/sweep-spec.json"))).unwrap();
        assert!(spec.contains(&format!("\"shard\": \"{i}/4\"")), "{spec}");
        let diagnostics =
            std::fs::read_to_string(out_dir.join(format!("shard-{i}/diagnostics.csv"))).unwrap();
        assert!(
            diagnostics.contains(&format!(
                "shard {i}/4 taken by --shard auto from SLURM_ARRAY_TASK_ID={i}"
            )),
            "{diagnostics}"
        );
    }
    drop(cluster);
    eprintln!(
        "slurm: cluster up in {:.1} s, sweep submitted, run and merged, daemons stopped: {:.1} s in all",
        up.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// The jobs' logs, for a failure's message.
fn job_logs(out_dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(out_dir.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        text.push_str(&format!(
            "--- {}\n{}\n",
            entry.path().display(),
            std::fs::read_to_string(entry.path()).unwrap_or_default()
        ));
    }
    text
}
