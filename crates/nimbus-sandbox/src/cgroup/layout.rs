//! Where each controller lives: parse `/proc/self/mountinfo` and `/proc/self/cgroup`.

use std::path::{Path, PathBuf};

use super::{CgroupError, Controller, SUPERVISOR_LEAF};

/// Where one controller lives for a given group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// No usable hierarchy: the protection it gives is off.
    Absent,
    /// The group's directory in the controller's v1 hierarchy.
    V1(PathBuf),
    /// The group's directory in the unified (v2) hierarchy.
    V2(PathBuf),
}

impl Placement {
    /// The group's directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Self::Absent => None,
            Self::V1(d) | Self::V2(d) => Some(d),
        }
    }

    fn child(&self, name: &str) -> Self {
        match self {
            Self::Absent => Self::Absent,
            Self::V1(d) => Self::V1(d.join(name)),
            Self::V2(d) => Self::V2(d.join(name)),
        }
    }
}

/// The placement of every [`Controller`] for one group: our own process after detection, our
/// subtree inside [`super::CgroupRoot`], an environment inside [`super::EnvCgroup`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupLayout {
    placements: [Placement; 4],
}

impl CgroupLayout {
    /// Detects the layout of the running process from `/proc/self/{mountinfo,cgroup}`.
    pub fn detect() -> Result<Self, CgroupError> {
        let mountinfo = super::fs::read(Path::new("/proc/self/mountinfo"))?;
        let self_cgroup = super::fs::read(Path::new("/proc/self/cgroup"))?;
        let layout = Self::detect_from(&mountinfo, &self_cgroup, Path::new("/"));
        tracing::debug!(?layout, "cgroup layout detected");
        Ok(layout)
    }

    /// Detects the layout from the text of `/proc/self/mountinfo` and `/proc/self/cgroup`, with
    /// mount points resolved under `fs_root` (`/` for real, a temp dir for a fake tree). The only
    /// file read is `cgroup.controllers` of our own v2 group; an unusable hierarchy is `Absent`
    /// (logged), never an error.
    pub fn detect_from(mountinfo: &str, self_cgroup: &str, fs_root: &Path) -> Self {
        let mounts = parse_mountinfo(mountinfo);
        let memberships = parse_self_cgroup(self_cgroup);

        // v2 is usable only if we can read which controllers our own v2 group may hand down.
        let v2 = own_v2_dir(&mounts, &memberships, fs_root).and_then(|dir| {
            match std::fs::read_to_string(dir.join("cgroup.controllers")) {
                Ok(s) => {
                    let names: Vec<String> = s.split_whitespace().map(str::to_string).collect();
                    Some((dir, names))
                }
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "cgroup v2 unusable: cannot read cgroup.controllers");
                    None
                }
            }
        });

        let placements = Controller::ALL.map(|c| {
            if let Some((dir, names)) = &v2 {
                // The v2 freezer is the core `cgroup.freeze`, present in every non-root group.
                if c == Controller::Freezer || names.iter().any(|n| n == c.name()) {
                    return Placement::V2(dir.clone());
                }
            }
            match own_v1_dir(&mounts, &memberships, fs_root, c.name()) {
                Some(dir) => Placement::V1(dir),
                None => Placement::Absent,
            }
        });
        Self { placements }
    }

    /// Where `controller` lives.
    pub fn placement(&self, controller: Controller) -> &Placement {
        &self.placements[controller.index()]
    }

    /// Controllers without a usable hierarchy: the protections that are off (warn once at start).
    pub fn missing(&self) -> Vec<Controller> {
        Controller::ALL
            .into_iter()
            .filter(|&c| *self.placement(c) == Placement::Absent)
            .collect()
    }

    /// True when every controller is on v2, so a child created with `clone3(CLONE_INTO_CGROUP)`
    /// needs no further `cgroup.procs` write.
    pub fn all_v2(&self) -> bool {
        self.placements
            .iter()
            .all(|p| matches!(p, Placement::V2(_)))
    }

    /// The unified directory, if any controller is on v2.
    pub(crate) fn v2_dir(&self) -> Option<&Path> {
        self.placements.iter().find_map(|p| match p {
            Placement::V2(d) => Some(d.as_path()),
            _ => None,
        })
    }

    /// Distinct directories in the order of [`Controller::ALL`]: two controllers may share a v1
    /// hierarchy (e.g. `cpu,cpuacct`), and all v2 controllers share one directory.
    pub(crate) fn unique_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for dir in self.placements.iter().filter_map(Placement::dir) {
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_path_buf());
            }
        }
        dirs
    }

    /// The same layout one level down, in child group `name` (no I/O).
    pub(crate) fn child(&self, name: &str) -> Self {
        Self {
            placements: self.placements.clone().map(|p| p.child(name)),
        }
    }
}

/// One line of mountinfo, reduced to what we need.
struct Mount {
    root: PathBuf,
    mount_point: PathBuf,
    fstype: String,
    super_options: String,
}

/// `/proc/self/cgroup`: the v2 path (`0::/path`) and the v1 lines (`id:ctrl,ctrl:/path`).
struct Memberships {
    v2: Option<String>,
    v1: Vec<(Vec<String>, String)>,
}

/// mountinfo: `id parent maj:min root mount-point options [optional...] - fstype source super-options`.
fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let sep = fields.iter().position(|f| *f == "-")?;
            if sep < 6 || fields.len() < sep + 4 {
                return None;
            }
            Some(Mount {
                root: PathBuf::from(unescape_octal(fields[3])),
                mount_point: PathBuf::from(unescape_octal(fields[4])),
                fstype: fields[sep + 1].to_string(),
                super_options: fields[sep + 3].to_string(),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digits = bytes.get(i + 1..i + 4).unwrap_or_default();
        if bytes[i] == b'\\'
            && digits.len() == 3
            && digits.iter().all(|d| (b'0'..=b'7').contains(d))
        {
            out.push(
                digits
                    .iter()
                    .fold(0u8, |acc, d| acc.wrapping_mul(8).wrapping_add(d - b'0')),
            );
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_self_cgroup(text: &str) -> Memberships {
    let mut memberships = Memberships {
        v2: None,
        v1: Vec::new(),
    };
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            memberships.v2 = Some(path.to_string());
        } else {
            let names = controllers.split(',').map(str::to_string).collect();
            memberships.v1.push((names, path.to_string()));
        }
    }
    memberships
}

/// Our own group's directory under `mount`: the mount shows the hierarchy from `mount.root`, and
/// our path must lie inside it (a container may see only part of a hierarchy).
fn resolve(fs_root: &Path, mount: &Mount, own_path: &str) -> Option<PathBuf> {
    let rel = Path::new(own_path).strip_prefix(&mount.root).ok()?;
    let mount_point = mount
        .mount_point
        .strip_prefix("/")
        .unwrap_or(&mount.mount_point);
    let mut dir = fs_root.to_path_buf();
    for part in [mount_point, rel] {
        if !part.as_os_str().is_empty() {
            dir.push(part);
        }
    }
    Some(dir)
}

fn own_v2_dir(mounts: &[Mount], memberships: &Memberships, fs_root: &Path) -> Option<PathBuf> {
    let mut path = memberships.v2.clone()?;
    // After `CgroupRoot::create` moved us into the supervisor leaf, our own group is its parent.
    if let Some(parent) = path.strip_suffix(&format!("/{SUPERVISOR_LEAF}")) {
        path = if parent.is_empty() {
            "/".to_string()
        } else {
            parent.to_string()
        };
    }
    let candidates: Vec<&Mount> = mounts.iter().filter(|m| m.fstype == "cgroup2").collect();
    let found = candidates.iter().find_map(|m| resolve(fs_root, m, &path));
    if found.is_none() && !candidates.is_empty() {
        tracing::warn!(%path, "cgroup v2 mounted, but our group is outside every cgroup2 mount");
    }
    found
}

fn own_v1_dir(
    mounts: &[Mount],
    memberships: &Memberships,
    fs_root: &Path,
    controller: &str,
) -> Option<PathBuf> {
    let (_, path) = memberships
        .v1
        .iter()
        .find(|(names, _)| names.iter().any(|n| n == controller))?;
    let candidates: Vec<&Mount> = mounts
        .iter()
        .filter(|m| m.fstype == "cgroup" && m.super_options.split(',').any(|o| o == controller))
        .collect();
    let found = candidates.iter().find_map(|m| resolve(fs_root, m, path));
    if found.is_none() && !candidates.is_empty() {
        tracing::warn!(controller, %path, "cgroup v1 mounted, but our group is outside every mount of it");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This very host: v1 for everything, a cgroup2 mount with only hugetlb.
    const HYBRID_MOUNTINFO: &str = "\
23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_CGROUP: &str = "\
9:name=systemd:/
8:pids:/
6:freezer:/
4:memory:/process_api/44a5
2:cpuacct:/
1:cpu:/
0::/
";
    const V2_MOUNTINFO: &str = "\
25 1 0:23 / /sys rw shared:7 - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";
    const V2_CGROUP: &str = "0::/system.slice/nimbus.service\n";

    fn write_file(path: &Path, content: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    #[test]
    fn hybrid_like_this_host() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write_file(
            &root.join("sys/fs/cgroup/unified/cgroup.controllers"),
            "hugetlb\n",
        );
        let layout = CgroupLayout::detect_from(HYBRID_MOUNTINFO, HYBRID_CGROUP, root);
        let cg = root.join("sys/fs/cgroup");
        assert_eq!(
            *layout.placement(Controller::Memory),
            Placement::V1(cg.join("memory/process_api/44a5"))
        );
        assert_eq!(
            *layout.placement(Controller::Cpu),
            Placement::V1(cg.join("cpu"))
        );
        assert_eq!(
            *layout.placement(Controller::Pids),
            Placement::V1(cg.join("pids"))
        );
        assert_eq!(
            *layout.placement(Controller::Freezer),
            Placement::V2(cg.join("unified"))
        );
        assert!(layout.missing().is_empty());
        assert!(!layout.all_v2());
        assert_eq!(layout.unique_dirs().len(), 4);
    }

    #[test]
    fn pure_v2_under_systemd() {
        let tmp = tempfile::tempdir().unwrap();
        let own = tmp.path().join("sys/fs/cgroup/system.slice/nimbus.service");
        write_file(
            &own.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        );
        let layout = CgroupLayout::detect_from(V2_MOUNTINFO, V2_CGROUP, tmp.path());
        for c in Controller::ALL {
            assert_eq!(*layout.placement(c), Placement::V2(own.clone()), "{c}");
        }
        assert!(layout.all_v2());
        assert_eq!(layout.unique_dirs(), vec![own.clone()]);

        // Once we moved into the supervisor leaf, our own group is still the service's group.
        let moved = "0::/system.slice/nimbus.service/nimbus-supervisor\n";
        let again = CgroupLayout::detect_from(V2_MOUNTINFO, moved, tmp.path());
        assert_eq!(again, layout);
    }

    #[test]
    fn v2_without_memory_falls_back_to_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let own = tmp.path().join("sys/fs/cgroup/system.slice/nimbus.service");
        write_file(&own.join("cgroup.controllers"), "cpu pids\n");
        let layout = CgroupLayout::detect_from(V2_MOUNTINFO, V2_CGROUP, tmp.path());
        assert_eq!(layout.missing(), vec![Controller::Memory]);
        assert!(!layout.all_v2());
    }

    #[test]
    fn pure_v1_and_comounted_cpu() {
        let mountinfo = "\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
";
        let self_cgroup = "4:memory:/a\n3:cpu,cpuacct:/b\n2:pids:/c\n1:freezer:/\n0::/\n";
        let layout = CgroupLayout::detect_from(mountinfo, self_cgroup, Path::new("/"));
        assert_eq!(
            *layout.placement(Controller::Memory),
            Placement::V1("/sys/fs/cgroup/memory/a".into())
        );
        assert_eq!(
            *layout.placement(Controller::Cpu),
            Placement::V1("/sys/fs/cgroup/cpu,cpuacct/b".into())
        );
        assert_eq!(
            *layout.placement(Controller::Freezer),
            Placement::V1("/sys/fs/cgroup/freezer".into())
        );
        assert!(layout.v2_dir().is_none());
    }

    #[test]
    fn container_sees_part_of_hierarchy() {
        // Mount root /docker/abc: our path /docker/abc/x lives at <mount>/x; a path outside is Absent.
        let mountinfo =
            "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let inside =
            CgroupLayout::detect_from(mountinfo, "4:memory:/docker/abc/x\n", Path::new("/"));
        assert_eq!(
            *inside.placement(Controller::Memory),
            Placement::V1("/sys/fs/cgroup/memory/x".into())
        );
        let outside =
            CgroupLayout::detect_from(mountinfo, "4:memory:/docker/abcd\n", Path::new("/"));
        assert_eq!(*outside.placement(Controller::Memory), Placement::Absent);
    }

    #[test]
    fn nothing_mounted() {
        let layout = CgroupLayout::detect_from(
            "23 1 0:21 / /sys rw - sysfs sysfs rw\n",
            "0::/\n",
            Path::new("/"),
        );
        assert_eq!(layout.missing(), Controller::ALL.to_vec());
        assert!(layout.unique_dirs().is_empty());
        assert!(!layout.all_v2());
    }

    #[test]
    fn mount_point_escapes() {
        assert_eq!(unescape_octal(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape_octal(r"/x\\"), r"/x\\");
        assert_eq!(unescape_octal(r"\134"), r"\");
    }
}
