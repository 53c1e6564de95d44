//! Real sandboxes on this host (needs root, namespaces and cgroups, as CI has).
//!
//! `harness = false`: this binary is also the spawner (`/proc/self/exe __nimbus_spawner`), so
//! `main` dispatches that first and then runs the cases in order, failing the process when
//! one fails.

use nimbus_sandbox::protocol::{self, InitMessage};
use nimbus_sandbox::{LaunchSpec, Launched, SandboxConfig, Sandboxes};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Case = fn(&Harness) -> Result<(), String>;

struct Harness {
    sandboxes: Sandboxes,
    dir: tempfile::TempDir,
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some(nimbus_sandbox::SPAWNER_ARG) {
        nimbus_sandbox::spawner_main();
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cases: &[(&str, Case)] = &[
        (
            "runs_unprivileged_in_a_private_root",
            runs_unprivileged_in_a_private_root,
        ),
        ("network_is_loopback_only", network_is_loopback_only),
        (
            "dangerous_syscalls_are_denied",
            dangerous_syscalls_are_denied,
        ),
        (
            "tmp_is_disk_backed_and_capped",
            tmp_is_disk_backed_and_capped,
        ),
        ("non_default_tmp_size", non_default_tmp_size),
        ("memory_limit_kills_with_oom", memory_limit_kills_with_oom),
        ("fork_bomb_is_capped", fork_bomb_is_capped),
        (
            "missing_program_reports_exec_failure",
            missing_program_reports_exec_failure,
        ),
        ("teardown_leaves_nothing", teardown_leaves_nothing),
    ];
    if nimbus_sandbox::sys::geteuid() != 0 {
        eprintln!("sandbox tests need root (namespaces, cgroups, loop devices); run as root");
        std::process::exit(1);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("runtime")).expect("runtime dir");
    std::fs::create_dir_all(dir.path().join("task")).expect("task dir");
    let sandboxes = Sandboxes::start(SandboxConfig {
        run_dir: dir.path().join("run"),
        runtime_dir: dir.path().join("runtime"),
        spawner_exe: std::env::current_exe().expect("exe"),
        pool_size: 2,
        default_tmp_mb: 512,
        force_process_isolation: false,
    })
    .expect("sandboxes start");
    let h = Harness { sandboxes, dir };
    let mut failed = 0;
    for (name, case) in cases {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let t = Instant::now();
        match case(&h) {
            Ok(()) => println!("test {name} ... ok ({:?})", t.elapsed()),
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED: {e}");
            }
        }
    }
    h.sandboxes.shutdown();
    if failed > 0 {
        println!("{failed} sandbox test(s) failed");
        std::process::exit(1);
    }
}

/// Result of running a script to completion in a fresh environment.
struct Run {
    output: String,
    exit: InitMessage,
}

impl Harness {
    fn task(&self, script: &str) -> PathBuf {
        let task = self.dir.path().join("task");
        std::fs::write(task.join("main.sh"), script).expect("write script");
        task
    }

    fn launch(&self, script: &str, memory_mb: u32, tmp_mb: u32) -> Result<Launched, String> {
        let task = self.task(script);
        self.sandboxes
            .launch(&LaunchSpec {
                memory_mb,
                tmp_mb,
                task_dir: task,
                extra_ro_dirs: vec![],
                argv: vec!["/bin/sh".into(), "/var/task/main.sh".into()],
                envp: vec!["PATH=/usr/bin:/bin".into()],
            })
            .map_err(|e| format!("launch: {e}"))
    }

    /// Runs `script` and waits (bounded) for the runtime to exit.
    fn run(&self, script: &str, memory_mb: u32, tmp_mb: u32) -> Result<(Run, Launched), String> {
        let launched = self.launch(script, memory_mb, tmp_mb)?;
        let fd = launched.control.as_raw_fd();
        let mut exit = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while exit.is_none() && Instant::now() < deadline {
            let ready =
                nimbus_sandbox::sys::poll_readable(&[fd], 1000).map_err(|e| e.to_string())?;
            if !ready[0] {
                continue;
            }
            match protocol::recv(fd).map_err(|e| e.to_string())? {
                None => break,
                Some(msg) => match msg.decode::<InitMessage>().map_err(|e| e.to_string())? {
                    InitMessage::Started { .. } => {}
                    other => exit = Some(other),
                },
            }
        }
        let exit = exit.ok_or("runtime did not exit within 60 s")?;
        // The init holds the pipe's write end until it exits; then we read to EOF.
        let mut output = String::new();
        let mut pipe = std::fs::File::from(launched.logs.try_clone().map_err(|e| e.to_string())?);
        let _ = pipe.read_to_string(&mut output);
        Ok((Run { output, exit }, launched))
    }
}

fn check(cond: bool, what: &str, output: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("{what}\n--- output ---\n{output}"))
    }
}

fn teardown(launched: Launched) -> Result<(), String> {
    launched
        .handle
        .teardown()
        .map_err(|e| format!("teardown: {e}"))
}

fn runs_unprivileged_in_a_private_root(h: &Harness) -> Result<(), String> {
    let (run, launched) = h.run(
        "id -u; id -g; pwd; ls /; grep -E '^(NoNewPrivs|CapEff|CapPrm|CapBnd)' /proc/self/status; \
         ls /proc | grep -c '^[0-9]'; cat /proc/self/cgroup; hostname; \
         touch /var/task/x 2>&1; touch /usr/x 2>&1; touch /x 2>&1; ls /work 2>&1; \
         cat /etc/shadow 2>&1; ulimit -n",
        256,
        512,
    )?;
    let out = &run.output;
    check(
        run.exit
            == InitMessage::Exited {
                code: Some(0),
                signal: None,
            },
        "exit status",
        out,
    )?;
    let lines: Vec<&str> = out.lines().collect();
    check(
        lines.first() == Some(&"993") && lines.get(1) == Some(&"990"),
        "uid/gid 993/990",
        out,
    )?;
    check(lines.get(2) == Some(&"/var/task"), "cwd /var/task", out)?;
    check(out.contains("NoNewPrivs:\t1"), "no_new_privs", out)?;
    check(
        out.contains("CapEff:\t0000000000000000"),
        "no effective caps",
        out,
    )?;
    check(
        out.contains("CapBnd:\t0000000000000000"),
        "empty bounding set",
        out,
    )?;
    check(
        out.contains("Read-only file system"),
        "read-only code and root",
        out,
    )?;
    check(
        out.contains("cannot access '/work'"),
        "host paths invisible",
        out,
    )?;
    check(!out.contains("root:"), "no /etc/shadow", out)?;
    check(out.lines().any(|l| l == "1024"), "RLIMIT_NOFILE 1024", out)?;
    check(
        out.contains("0::/"),
        "cgroup namespace rooted at the env",
        out,
    )?;
    // Only the init, the shell and `ls`/`grep` are visible in the pid namespace.
    let procs: usize = lines
        .iter()
        .find_map(|l| l.parse::<usize>().ok().filter(|n| *n < 10))
        .unwrap_or(99);
    check(procs <= 4, "only the sandbox's own processes in /proc", out)?;
    let cg = launched.handle.cgroup().ok_or("cgroup missing")?;
    let _ = cg;
    teardown(launched)
}

fn dangerous_syscalls_are_denied(h: &Harness) -> Result<(), String> {
    // Each probe calls the raw syscall through libc and prints the errno (0 = allowed).
    let script = r#"exec python3 -S -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    print(name, 0 if r >= 0 else ctypes.get_errno())
call("unshare_user", 272, 0x10000000)
call("unshare_fs", 272, 0x00000200)
call("clone_newuser", 56, 0x10000000 | 17, 0, 0, 0, 0)
call("mount", 165, 0, 0, 0, 0, 0)
call("io_uring_setup", 425, 1, 0)
call("bpf", 321, 0, 0, 0)
call("keyctl", 250, 0, 0, 0)
call("perf_event_open", 298, 0, 0, 0, 0, 0)
call("userfaultfd", 323, 0)
call("ptrace", 101, 0, 1, 0, 0)
call("clone3", 435, 0, 0)
call("getpid", 39)
print("status", [l.split()[1] for l in open("/proc/self/status") if l.startswith("Seccomp:")][0])
'"#;
    let (run, launched) = h.run(script, 128, 512)?;
    let out = &run.output;
    for denied in [
        "unshare_user 1",
        "unshare_fs 1",
        "clone_newuser 1",
        "mount 1",
        "io_uring_setup 1",
        "bpf 1",
        "keyctl 1",
        "perf_event_open 1",
        "userfaultfd 1",
        "ptrace 1",
        "clone3 38",
    ] {
        check(
            out.lines().any(|l| l == denied),
            &format!("expected `{denied}` (EPERM=1, ENOSYS=38)"),
            out,
        )?;
    }
    check(
        out.lines().any(|l| l == "getpid 0"),
        "ordinary syscalls work",
        out,
    )?;
    check(
        out.lines().any(|l| l == "status 2"),
        "Seccomp: 2 (filter mode)",
        out,
    )?;
    teardown(launched)
}

fn network_is_loopback_only(h: &Harness) -> Result<(), String> {
    // A host listener the function must not reach.
    let host = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = host.local_addr().map_err(|e| e.to_string())?.port();
    let script = format!(
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; \
         python3 -S -c \"import socket\nfor a in [('127.0.0.1',{port}),('127.0.0.1',9001),('10.0.0.1',80)]:\n  s=socket.socket(); s.settimeout(1)\n  try:\n    s.connect(a); print('connected', a)\n  except Exception as e: print('refused', a, type(e).__name__)\""
    );
    let (run, launched) = h.run(&script, 128, 512)?;
    let out = &run.output;
    check(
        out.lines().next() == Some("lo") && !out.contains("eth"),
        "only lo",
        out,
    )?;
    check(
        out.contains(&format!("refused ('127.0.0.1', {port})")),
        "host port unreachable",
        out,
    )?;
    check(
        out.contains("connected ('127.0.0.1', 9001)"),
        "own Runtime API reachable",
        out,
    )?;
    check(
        out.contains("refused ('10.0.0.1', 80)"),
        "no route out",
        out,
    )?;
    teardown(launched)
}

fn tmp_is_disk_backed_and_capped(h: &Harness) -> Result<(), String> {
    // A 128 MB function writes 400 MB into /tmp (Lambda's /tmp is disk), then overfills it.
    let (run, launched) = h.run(
        "dd if=/dev/zero of=/tmp/a bs=1M count=400 2>&1 | tail -1; echo rc=$?; \
         dd if=/dev/zero of=/tmp/b bs=1M count=200 2>&1 | grep -o 'No space left on device' | head -1; \
         df -m /tmp | tail -1",
        128,
        512,
    )?;
    let out = &run.output;
    check(
        out.contains("419430400 bytes"),
        "400 MB written with a 128 MB memory limit",
        out,
    )?;
    check(
        out.contains("No space left on device"),
        "ENOSPC past the cap",
        out,
    )?;
    let cg = launched.handle.cgroup().ok_or("no cgroup")?;
    check(
        cg.oom_kills().unwrap_or(0) == 0,
        "no OOM kill from /tmp writes",
        out,
    )?;
    teardown(launched)
}

fn non_default_tmp_size(h: &Harness) -> Result<(), String> {
    let (run, launched) = h.run("df -m /tmp | tail -1 | awk '{print $4}'", 128, 1024)?;
    let avail: u64 = run
        .output
        .trim()
        .parse()
        .map_err(|_| format!("df: {}", run.output))?;
    check(
        (1024..=1026).contains(&avail),
        "1024 MB available in /tmp",
        &run.output,
    )?;
    teardown(launched)
}

fn memory_limit_kills_with_oom(h: &Harness) -> Result<(), String> {
    let (run, launched) = h.run(
        "exec python3 -S -c 'b = bytearray(300 * 1024 * 1024); print(len(b))'",
        128,
        512,
    )?;
    check(
        run.exit
            == InitMessage::Exited {
                code: None,
                signal: Some(libc::SIGKILL),
            },
        &format!("killed by SIGKILL, got {:?}", run.exit),
        &run.output,
    )?;
    let cg = launched.handle.cgroup().ok_or("no cgroup")?;
    check(
        cg.oom_kills().unwrap_or(0) >= 1,
        "cgroup counted the OOM kill",
        &run.output,
    )?;
    let peak = cg.peak_bytes().unwrap_or(0);
    check(
        (100 * 1024 * 1024..=129 * 1024 * 1024).contains(&peak),
        &format!("peak {peak} near the limit"),
        &run.output,
    )?;
    teardown(launched)
}

fn fork_bomb_is_capped(h: &Harness) -> Result<(), String> {
    // 2,000 children requested; the pids cgroup stops the environment at 1,024 tasks with
    // EAGAIN (init + python + 1,022 children). 512 MB: a thousand forked Pythons touch enough
    // copy-on-write pages to brush a 256 MB limit, and an OOM kill would hide the pids cap.
    let script = "exec python3 -S -c '
import os, time
n, err = 0, None
for i in range(2000):
    try:
        pid = os.fork()
    except OSError as e:
        err = e.errno
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print(n, err, flush=True)
'";
    let (run, launched) = h.run(script, 512, 512)?;
    let out = run.output.trim();
    check(
        out == "1022 11",
        &format!("forks stopped by EAGAIN at the 1,024-task cap: {out}"),
        out,
    )?;
    teardown(launched)
}

fn missing_program_reports_exec_failure(h: &Harness) -> Result<(), String> {
    let task = h.task("");
    let launched = h
        .sandboxes
        .launch(&LaunchSpec {
            memory_mb: 128,
            tmp_mb: 512,
            task_dir: task,
            extra_ro_dirs: vec![],
            argv: vec!["/var/task/bootstrap".into()],
            envp: vec![],
        })
        .map_err(|e| e.to_string())?;
    let fd = launched.control.as_raw_fd();
    let _ = nimbus_sandbox::sys::poll_readable(&[fd], 10_000);
    let msg = protocol::recv(fd)
        .map_err(|e| e.to_string())?
        .ok_or("eof")?;
    match msg.decode::<InitMessage>().map_err(|e| e.to_string())? {
        InitMessage::Failed {
            stage,
            errno: Some(libc::ENOENT),
            ..
        } if stage == "exec" => {}
        other => return Err(format!("expected exec ENOENT, got {other:?}")),
    }
    teardown(launched)
}

fn teardown_leaves_nothing(h: &Harness) -> Result<(), String> {
    let launched = h.launch(
        "sleep 1000 & sleep 1000 & setsid sleep 1000 & wait",
        128,
        512,
    )?;
    std::thread::sleep(Duration::from_millis(300));
    let cg = launched.handle.cgroup().cloned().ok_or("no cgroup")?;
    let procs = cg.procs();
    if procs.len() < 4 {
        return Err(format!(
            "expected init + shell + sleepers in the cgroup, got {procs:?}"
        ));
    }
    let images_dir = h.dir.path().join("run/tmp-images");
    let before = count_images(&images_dir);
    let t = Instant::now();
    teardown(launched)?;
    let took = t.elapsed();
    for pid in procs {
        if Path::new(&format!("/proc/{pid}")).exists() {
            return Err(format!("pid {pid} survived teardown"));
        }
    }
    if cg.v2_dir().is_some_and(|d| d.exists()) {
        return Err("v2 cgroup directory left behind".into());
    }
    if count_images(&images_dir) >= before {
        return Err("the /tmp image was not removed".into());
    }
    println!("  teardown took {took:?}");
    Ok(())
}

fn count_images(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "img"))
                .count()
        })
        .unwrap_or(0)
}
