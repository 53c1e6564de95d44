//! Reserved concurrency: Put/Get/DeleteFunctionConcurrency. The setting is stored first, then
//! applied to [`crate::admission::Admission`], which enforces it on every invocation.

use crate::functions::{ControlError, violation};
use crate::platform::Platform;
use nimbus_api::function::Concurrency;
use nimbus_api::validate::{self, ValidationFailure, Violation};
use nimbus_api::versions::PutFunctionConcurrencyRequest;

impl Platform {
    /// Loads every reservation at start-up.
    pub(crate) async fn load_reserved(&self) -> anyhow::Result<()> {
        for (function, reserved) in self.store.list_reserved_concurrency().await? {
            let reserved = u32::try_from(reserved).unwrap_or(0);
            if let Err(e) = self.admission.check_reserved(&function, Some(reserved)) {
                // A lowered account limit can make stored reservations impossible; keep the
                // function capped rather than refusing to start.
                tracing::warn!(function = %function, reserved, error = %e, "stored reservation no longer fits the account limit; applied anyway");
            }
            self.admission.set_reserved(&function, Some(reserved));
        }
        Ok(())
    }

    /// PutFunctionConcurrency. `0` disables the function.
    pub async fn put_function_concurrency(
        &self,
        function: &str,
        req: PutFunctionConcurrencyRequest,
    ) -> Result<Concurrency, ControlError> {
        let name = self.unqualified_name(function)?;
        let reserved = match req.reserved_concurrent_executions {
            None => return Err(violation(Violation::null("reservedConcurrentExecutions"))),
            Some(n) if n < 0 => {
                return Err(violation(Violation::new(
                    n.to_string(),
                    "reservedConcurrentExecutions",
                    validate::min_value(0),
                )));
            }
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
        };
        let _writes = self.writes.lock().await;
        self.latest_or_404(&name)?;
        self.admission
            .check_reserved(&name, Some(reserved))
            .map_err(|e| {
                ControlError::Invalid(ValidationFailure::invalid_parameter(e.to_string()))
            })?;
        self.store
            .put_reserved_concurrency(&name, Some(i64::from(reserved)))
            .await
            .map_err(|e| ControlError::service("could not save the reservation", e))?;
        self.admission.set_reserved(&name, Some(reserved));
        tracing::info!(function = %name, reserved, "reserved concurrency set");
        Ok(Concurrency {
            reserved_concurrent_executions: Some(i64::from(reserved)),
        })
    }

    /// GetFunctionConcurrency (`{}` when none is set).
    pub async fn get_function_concurrency(
        &self,
        function: &str,
    ) -> Result<Concurrency, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        Ok(Concurrency {
            reserved_concurrent_executions: self.reserved(&name).map(i64::from),
        })
    }

    /// DeleteFunctionConcurrency: back to the unreserved pool.
    pub async fn delete_function_concurrency(&self, function: &str) -> Result<(), ControlError> {
        let name = self.unqualified_name(function)?;
        let _writes = self.writes.lock().await;
        self.latest_or_404(&name)?;
        self.admission.check_reserved(&name, None).map_err(|e| {
            ControlError::Invalid(ValidationFailure::invalid_parameter(e.to_string()))
        })?;
        self.store
            .put_reserved_concurrency(&name, None)
            .await
            .map_err(|e| ControlError::service("could not remove the reservation", e))?;
        self.admission.set_reserved(&name, None);
        tracing::info!(function = %name, "reserved concurrency removed");
        Ok(())
    }

    /// A function's reservation, if any.
    pub(crate) fn reserved(&self, function: &str) -> Option<u32> {
        self.admission.function_stats(function).reserved
    }
}
