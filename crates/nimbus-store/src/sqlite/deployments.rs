//! Traffic-shifting deployments in `nimbus.db`.

use super::SqliteStore;
use crate::StoreError;
use crate::deployments::{DEPLOYMENT_LIST_LIMIT_MAX, DeploymentRow, DeploymentStore};
use async_trait::async_trait;

/// The columns of a [`DeploymentRow`], in its field order (a macro: sqlx takes only static
/// SQL text, which `concat!` builds).
macro_rules! columns {
    () => {
        "id, owner, function_name, alias, from_version, to_version, deployment_type, status, \
         in_progress, weight_percent, step, started_ms, next_step_ms, hooks_json, alarms_json, \
         reason, events_json, updated_ms"
    };
}

#[async_trait]
impl DeploymentStore for SqliteStore {
    async fn put_deployment(&self, row: &DeploymentRow) -> Result<(), StoreError> {
        const OP: &str = "put_deployment";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        sqlx::query(concat!(
            "INSERT OR REPLACE INTO deployments (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18)"
        ))
        .bind(&row.id)
        .bind(&row.owner)
        .bind(&row.function_name)
        .bind(&row.alias)
        .bind(&row.from_version)
        .bind(&row.to_version)
        .bind(&row.deployment_type)
        .bind(&row.status)
        .bind(row.in_progress)
        .bind(row.weight_percent)
        .bind(row.step)
        .bind(row.started_ms)
        .bind(row.next_step_ms)
        .bind(&row.hooks_json)
        .bind(&row.alarms_json)
        .bind(&row.reason)
        .bind(&row.events_json)
        .bind(row.updated_ms)
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
        tx.commit().await.map_err(db.err(OP))
    }

    async fn get_deployment(&self, id: &str) -> Result<Option<DeploymentRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, DeploymentRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM deployments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(db.reader())
        .await
        .map_err(db.err("get_deployment"))
    }

    async fn list_deployments(
        &self,
        function: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DeploymentRow>, StoreError> {
        let db = &self.control;
        let limit = i64::from(limit.min(DEPLOYMENT_LIST_LIMIT_MAX));
        let query = match function {
            Some(f) => sqlx::query_as::<_, DeploymentRow>(concat!(
                "SELECT ",
                columns!(),
                " FROM deployments WHERE function_name = $1 \
                 ORDER BY started_ms DESC, id DESC LIMIT $2"
            ))
            .bind(f.to_string())
            .bind(limit),
            None => sqlx::query_as::<_, DeploymentRow>(concat!(
                "SELECT ",
                columns!(),
                " FROM deployments ORDER BY started_ms DESC, id DESC LIMIT $1"
            ))
            .bind(limit),
        };
        query
            .fetch_all(db.reader())
            .await
            .map_err(db.err("list_deployments"))
    }

    async fn list_deployments_in_progress(&self) -> Result<Vec<DeploymentRow>, StoreError> {
        let db = &self.control;
        sqlx::query_as::<_, DeploymentRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM deployments WHERE in_progress = 1 ORDER BY started_ms, id"
        ))
        .fetch_all(db.reader())
        .await
        .map_err(db.err("list_deployments_in_progress"))
    }

    async fn prune_deployments(&self, function: &str, keep: u32) -> Result<u64, StoreError> {
        const OP: &str = "prune_deployments";
        let db = &self.control;
        let mut tx = db.begin_write(OP).await?;
        let done = sqlx::query(
            "DELETE FROM deployments WHERE function_name = $1 AND in_progress = 0 AND id NOT IN \
             (SELECT id FROM deployments WHERE function_name = $1 AND in_progress = 0 \
              ORDER BY started_ms DESC, id DESC LIMIT $2)",
        )
        .bind(function)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await
        .map_err(db.err(OP))?;
        tx.commit().await.map_err(db.err(OP))?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, function: &str, started: i64, in_progress: bool) -> DeploymentRow {
        DeploymentRow {
            id: id.into(),
            owner: "test".into(),
            function_name: function.into(),
            alias: "live".into(),
            from_version: "1".into(),
            to_version: "2".into(),
            deployment_type: "Canary10Percent5Minutes".into(),
            status: if in_progress { "Shifting" } else { "Succeeded" }.into(),
            in_progress,
            weight_percent: 10,
            step: 0,
            started_ms: started,
            next_step_ms: in_progress.then_some(started + 300_000),
            hooks_json: "{}".into(),
            alarms_json: "[]".into(),
            reason: None,
            events_json: "[]".into(),
            updated_ms: started,
        }
    }

    #[tokio::test]
    async fn put_get_list_and_in_progress_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store
            .put_deployment(&row("d-1", "f", 1, false))
            .await
            .unwrap();
        store
            .put_deployment(&row("d-2", "f", 2, true))
            .await
            .unwrap();
        store
            .put_deployment(&row("d-3", "g", 3, true))
            .await
            .unwrap();
        // A replace changes every field but the id.
        let mut changed = row("d-2", "f", 2, true);
        changed.weight_percent = 100;
        changed.next_step_ms = None;
        changed.reason = Some("why".into());
        store.put_deployment(&changed).await.unwrap();
        store.close().await;

        let store = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(store.get_deployment("d-2").await.unwrap(), Some(changed));
        assert_eq!(store.get_deployment("d-9").await.unwrap(), None);
        let ids = |rows: Vec<DeploymentRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.list_deployments(None, 10).await.unwrap()),
            ["d-3", "d-2", "d-1"]
        );
        assert_eq!(
            ids(store.list_deployments(Some("f"), 10).await.unwrap()),
            ["d-2", "d-1"]
        );
        assert_eq!(ids(store.list_deployments(None, 1).await.unwrap()), ["d-3"]);
        assert_eq!(
            ids(store.list_deployments_in_progress().await.unwrap()),
            ["d-2", "d-3"]
        );
    }

    #[tokio::test]
    async fn prune_keeps_the_newest_finished_and_every_running_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        for i in 0..5 {
            store
                .put_deployment(&row(&format!("d-{i}"), "f", i, false))
                .await
                .unwrap();
        }
        store
            .put_deployment(&row("d-run", "f", 0, true))
            .await
            .unwrap();
        store
            .put_deployment(&row("d-other", "g", 0, false))
            .await
            .unwrap();
        assert_eq!(store.prune_deployments("f", 2).await.unwrap(), 3);
        let mut ids: Vec<String> = store
            .list_deployments(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["d-3", "d-4", "d-other", "d-run"]);
    }
}
