//! Warm environments waiting for their next invocation, per function snapshot, and the
//! reaper that scales them to zero after the keep-alive.

use crate::env::Env;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::time::{Duration, Instant};

/// Idle environments by snapshot key (name, version, revision).
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<String, Vec<Arc<Env>>>>,
    /// Every environment alive (idle or busy), for shutdown and counts.
    live: Mutex<HashMap<String, Arc<Env>>>,
}

impl Pool {
    /// Registers a freshly started environment.
    pub(crate) fn register(&self, env: &Arc<Env>) {
        if let Ok(mut live) = self.live.lock() {
            live.insert(env.id.clone(), Arc::clone(env));
        }
    }

    /// Takes an idle environment for `key`: a provisioned one first (that is what they are
    /// for), else the most recently used. Dead ones met on the way are returned for teardown.
    pub(crate) fn acquire(&self, key: &str) -> (Option<Arc<Env>>, Vec<Arc<Env>>) {
        let mut dead = Vec::new();
        let Ok(mut idle) = self.idle.lock() else {
            return (None, dead);
        };
        let Some(list) = idle.get_mut(key) else {
            return (None, dead);
        };
        list.retain(|e| {
            let usable = e.is_usable();
            if !usable {
                dead.push(Arc::clone(e));
            }
            usable
        });
        let pick = list
            .iter()
            .rposition(|e| e.is_provisioned())
            .or_else(|| list.len().checked_sub(1));
        (pick.map(|i| list.remove(i)), dead)
    }

    /// Puts an environment back after an invocation. Returns it when it must be torn down
    /// instead (broken, dead, or its snapshot is no longer current).
    pub(crate) fn release(&self, env: Arc<Env>, current: bool) -> Option<Arc<Env>> {
        if !current || !env.is_usable() {
            return Some(env);
        }
        match self.idle.lock() {
            Ok(mut idle) => {
                idle.entry(env.function.env_key()).or_default().push(env);
                None
            }
            Err(_) => Some(env),
        }
    }

    /// Forgets an environment that is being torn down.
    pub(crate) fn forget(&self, env: &Env) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&env.id);
        }
    }

    /// Removes idle environments that died or were unused for `keep_alive`; returns them for
    /// teardown. Provisioned environments are never reaped while a configuration keeps them.
    pub(crate) fn collect_expired(&self, now: Instant, keep_alive: Duration) -> Vec<Arc<Env>> {
        self.collect(|env| {
            !env.is_usable()
                || (!env.is_provisioned() && now.duration_since(env.last_used()) >= keep_alive)
        })
    }

    /// Removes every idle environment of function `name`.
    pub(crate) fn collect_function(&self, name: &str) -> Vec<Arc<Env>> {
        self.collect(|env| env.function.name == name)
    }

    /// Removes the idle environments of one version of function `name`.
    pub(crate) fn collect_version(&self, name: &str, version: &str) -> Vec<Arc<Env>> {
        self.collect(|env| env.function.name == name && env.function.version == version)
    }

    fn collect(&self, mut pick: impl FnMut(&Env) -> bool) -> Vec<Arc<Env>> {
        let mut out = Vec::new();
        if let Ok(mut idle) = self.idle.lock() {
            for list in idle.values_mut() {
                let (take, keep): (Vec<_>, Vec<_>) = list.drain(..).partition(|e| pick(e));
                *list = keep;
                out.extend(take);
            }
            idle.retain(|_, list| !list.is_empty());
        }
        out
    }

    /// Every live environment (idle or busy).
    pub(crate) fn live(&self) -> Vec<Arc<Env>> {
        self.live
            .lock()
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Numbers of (live, idle) environments.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let live = self.live.lock().map(|l| l.len()).unwrap_or(0);
        let idle = self
            .idle
            .lock()
            .map(|i| i.values().map(Vec::len).sum())
            .unwrap_or(0);
        (live, idle)
    }
}
