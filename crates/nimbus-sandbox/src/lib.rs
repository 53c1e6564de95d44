//! Linux execution environments for Nimbus: namespaces, mounts, cgroups v1+v2, the spawner and the
//! in-sandbox init.

pub mod cgroup;
