//! Temporary smoke test of the spawn path (spawner + shell) before the pool is wired.
use nimbus_sandbox::protocol::{self, Go, InitMessage, Isolation, RootfsSpec, ShellSpec, TmpSpec};
use nimbus_sandbox::spawner::SpawnerHandle;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

fn main() {
    if std::env::args().nth(1).as_deref() == Some(nimbus_sandbox::SPAWNER_ARG) {
        nimbus_sandbox::spawner_main();
    }
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path();
    std::fs::create_dir_all(run.join("rootfs")).unwrap();
    std::fs::create_dir_all(run.join("runtime")).unwrap();
    std::fs::create_dir_all(run.join("task")).unwrap();
    std::fs::write(run.join("task/hello.sh"), "echo hello from $(id -u) in $(pwd); ls /; cat /proc/self/status | grep -E 'NoNewPrivs|CapEff|Seccomp'; df -h /tmp; ip addr 2>/dev/null | head -3; echo pid $$; ls /proc | head -5\n").unwrap();
    nimbus_sandbox::etc::build_etc(&run.join("etc"), "sbx", 993, 990).unwrap();
    let images = nimbus_sandbox::scratch::ScratchImages::open(&run.join("img")).unwrap();
    let image = images.create(512, "x").unwrap();
    let exe = std::env::current_exe().unwrap();
    let spawner = SpawnerHandle::start(&exe).unwrap();
    let spec = ShellSpec {
        shell_id: "x".into(),
        isolation: Isolation::Namespaces,
        attach: vec![],
        into_cgroup: None,
        rootfs: Some(RootfsSpec {
            mountpoint: run.join("rootfs"),
            etc_dir: run.join("etc"),
            runtime_dir: run.join("runtime"),
            ro_dirs: vec![PathBuf::from("/usr")],
            root_symlinks: vec![
                ("bin".into(), "usr/bin".into()),
                ("lib".into(), "usr/lib".into()),
                ("lib64".into(), "usr/lib64".into()),
                ("sbin".into(), "usr/sbin".into()),
            ],
            hostname: "sbx".into(),
        }),
        tmp: TmpSpec::Image(image),
    };
    let t0 = std::time::Instant::now();
    let shell = spawner.build_shell(&spec).unwrap();
    let t1 = t0.elapsed();
    let ready = protocol::recv(shell.control.as_raw_fd()).unwrap().unwrap();
    println!(
        "built in {:?}, ready after {:?}: {:?}",
        t1,
        t0.elapsed(),
        ready.decode::<InitMessage>().unwrap()
    );
    let go = Go {
        task_dir: run.join("task"),
        extra_ro_dirs: vec![],
        tmp: None,
        argv: vec!["/bin/sh".into(), "/var/task/hello.sh".into()],
        envp: vec!["PATH=/usr/bin:/bin".into()],
        cwd: "/var/task".into(),
        uid: 993,
        gid: 990,
        nofile: 1024,
    };
    let t2 = std::time::Instant::now();
    protocol::send(shell.control.as_raw_fd(), &go, &[]).unwrap();
    let started = protocol::recv(shell.control.as_raw_fd()).unwrap().unwrap();
    println!(
        "started after {:?}: {:?}",
        t2.elapsed(),
        started.decode::<InitMessage>().unwrap()
    );
    let exited = protocol::recv(shell.control.as_raw_fd()).unwrap().unwrap();
    println!("exited: {:?}", exited.decode::<InitMessage>().unwrap());
    let mut logs = String::new();
    let mut f = std::fs::File::from(shell.logs);
    nimbus_sandbox::sys::set_nonblocking(f.as_raw_fd()).unwrap();
    let _ = f.read_to_string(&mut logs);
    println!("logs:\n{logs}");
    println!(
        "listener: {:?} {}",
        shell.listener.local_addr(),
        shell.runtime_api
    );
}
