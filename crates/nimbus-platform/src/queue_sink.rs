//! The queue service as the target of asynchronous deliveries (DLQ, SQS destinations).

use std::sync::Arc;

use async_trait::async_trait;
use nimbus_api::sqs::{MessageAttributeValue, SqsErrorCode};
use nimbus_queues::{Queues, SendEntry};

use crate::async_events::{QueueMessageAttribute, QueueSink, QueueSinkError};

/// Sends async records and dead letters into the local queue service, idempotently.
pub(crate) struct LocalQueueSink(pub Arc<Queues>);

#[async_trait]
impl QueueSink for LocalQueueSink {
    async fn send_once(
        &self,
        queue_arn: &str,
        dedup_id: &str,
        body: String,
        attributes: Vec<QueueMessageAttribute>,
        trace_header: Option<String>,
    ) -> Result<(), QueueSinkError> {
        let queues = &self.0;
        let Some(name) = queues.name_from_arn(queue_arn) else {
            return Err(QueueSinkError::NoSuchQueue(queue_arn.to_string()));
        };
        let queue = match queues.get(&name).await {
            Ok(q) => q,
            Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => {
                return Err(QueueSinkError::NoSuchQueue(queue_arn.to_string()));
            }
            Err(e) => return Err(QueueSinkError::Unavailable(e.message)),
        };
        // Lambda does not deliver to FIFO queues (no message group to put the record in).
        if queue.attributes.fifo_queue {
            return Err(QueueSinkError::Refused(
                "FIFO queues are not supported as dead-letter queues or destinations".into(),
            ));
        }
        let entry = SendEntry {
            body,
            message_attributes: attributes
                .into_iter()
                .map(|a| {
                    (
                        a.name,
                        MessageAttributeValue {
                            data_type: a.data_type,
                            string_value: Some(a.value),
                            binary_value: None,
                            string_list_values: None,
                            binary_list_values: None,
                        },
                    )
                })
                .collect(),
            trace_header,
            ..SendEntry::default()
        };
        match queues.send_once(&name, dedup_id, entry).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => {
                Err(QueueSinkError::NoSuchQueue(queue_arn.to_string()))
            }
            Err(e) if e.status() >= 500 => Err(QueueSinkError::Unavailable(e.message)),
            Err(e) => Err(QueueSinkError::Refused(e.message)),
        }
    }
}
