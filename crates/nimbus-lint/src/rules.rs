//! The rules: id, default severity, and the one-line why and fix shown with every finding.
//! docs/compat.md ("Lint rules") lists the same table; ids never change meaning.

/// One check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// NL001: an asynchronously invoked function (Schedule event or EventInvokeConfig)
    /// without a DeadLetterQueue or OnFailure destination; an SQS source queue without a
    /// RedrivePolicy.
    NoFailureDestination,
    /// NL002: a batch or asynchronous function (SQS or Schedule events) without
    /// ReservedConcurrentExecutions.
    NoConcurrencyCap,
    /// NL003: the function's timeout is above a sixth of its source queue's visibility
    /// timeout.
    TimeoutVsVisibility,
    /// NL004: MemorySize far above the observed peak, or within 10 % of it.
    MemoryVsObserved,
    /// NL005: observed p99 duration within 10 % of the timeout.
    P99NearTimeout,
    /// NL006: observed Init close to Lambda's 10 s cap.
    SlowInit,
    /// NL007: retries bounded by nothing but defaults or message retention.
    UnboundedRetries,
    /// NL008: ProvisionedConcurrencyConfig without AutoPublishAlias.
    ProvisionedWithoutAlias,
    /// NL009: a public route (Api, HttpApi, FunctionUrl with AuthType NONE) on a function
    /// without ReservedConcurrentExecutions.
    PublicWithoutThrottle,
}

impl Rule {
    /// Every rule, in id order.
    pub const ALL: [Rule; 9] = [
        Rule::NoFailureDestination,
        Rule::NoConcurrencyCap,
        Rule::TimeoutVsVisibility,
        Rule::MemoryVsObserved,
        Rule::P99NearTimeout,
        Rule::SlowInit,
        Rule::UnboundedRetries,
        Rule::ProvisionedWithoutAlias,
        Rule::PublicWithoutThrottle,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Rule::NoFailureDestination => "NL001",
            Rule::NoConcurrencyCap => "NL002",
            Rule::TimeoutVsVisibility => "NL003",
            Rule::MemoryVsObserved => "NL004",
            Rule::P99NearTimeout => "NL005",
            Rule::SlowInit => "NL006",
            Rule::UnboundedRetries => "NL007",
            Rule::ProvisionedWithoutAlias => "NL008",
            Rule::PublicWithoutThrottle => "NL009",
        }
    }

    /// The usual severity. Two rules raise or lower it per finding: NL003 is an error when
    /// the timeout exceeds the visibility timeout itself (AWS refuses that mapping); NL004
    /// is only informational when memory is oversized (it costs money, breaks nothing).
    pub fn severity(self) -> crate::Severity {
        use crate::Severity::{Error, Warning};
        match self {
            Rule::NoFailureDestination | Rule::ProvisionedWithoutAlias => Error,
            Rule::NoConcurrencyCap
            | Rule::TimeoutVsVisibility
            | Rule::MemoryVsObserved
            | Rule::P99NearTimeout
            | Rule::SlowInit
            | Rule::UnboundedRetries
            | Rule::PublicWithoutThrottle => Warning,
        }
    }

    /// Why it matters.
    pub fn why(self) -> &'static str {
        match self {
            Rule::NoFailureDestination => {
                "an event that keeps failing is dropped after its retries (or retried until it expires) with no record of it"
            }
            Rule::NoConcurrencyCap => {
                "a backlog scales it up to the whole account pool, throttling every other function"
            }
            Rule::TimeoutVsVisibility => {
                "a message still being processed becomes visible again and is processed twice (AWS recommends visibility ≥ 6 × timeout)"
            }
            Rule::MemoryVsObserved => {
                "near the peak an input a bit larger runs out of memory; far above it every GB-second is paid for nothing"
            }
            Rule::P99NearTimeout => {
                "a slightly slower dependency turns the slowest 1 % into timeouts, which are billed and retried"
            }
            Rule::SlowInit => {
                "Lambda caps Init at 10 s; past it the cold start fails and Init is retried inside the billed invocation"
            }
            Rule::UnboundedRetries => {
                "a poison event is retried for hours (async: up to 6 h by default; SQS: until retention ends) and costs each time"
            }
            Rule::ProvisionedWithoutAlias => {
                "provisioned concurrency is set on an alias or version, never on $LATEST: without one nothing is kept warm"
            }
            Rule::PublicWithoutThrottle => {
                "anyone who can reach the route can drive the function to the account's concurrency limit"
            }
        }
    }

    /// The usual fix (findings may name the exact value).
    pub fn fix(self) -> &'static str {
        match self {
            Rule::NoFailureDestination => {
                "add DeadLetterQueue (Type: SQS) or EventInvokeConfig.DestinationConfig.OnFailure; for SQS sources, a RedrivePolicy on the queue"
            }
            Rule::NoConcurrencyCap => {
                "set ReservedConcurrentExecutions well below the account limit (or ScalingConfig MaximumConcurrency on every SQS event)"
            }
            Rule::TimeoutVsVisibility => {
                "raise the queue's VisibilityTimeout to at least 6 × the function timeout, or lower the timeout"
            }
            Rule::MemoryVsObserved => "set MemorySize to about 1.5 × the observed peak",
            Rule::P99NearTimeout => {
                "raise Timeout well above the p99, or make the slow path faster (timeouts on outbound calls)"
            }
            Rule::SlowInit => {
                "do less before the handler (lazy-load, smaller package), or keep environments warm with provisioned concurrency"
            }
            Rule::UnboundedRetries => {
                "set EventInvokeConfig MaximumRetryAttempts and MaximumEventAgeInSeconds; give queues a RedrivePolicy with a small maxReceiveCount"
            }
            Rule::ProvisionedWithoutAlias => {
                "add AutoPublishAlias (e.g. live) so the provisioned environments serve the alias"
            }
            Rule::PublicWithoutThrottle => {
                "set ReservedConcurrentExecutions to the most the route should ever use"
            }
        }
    }

    /// The rule in a few words (the docs table's "Rule" column).
    pub fn title(self) -> &'static str {
        match self {
            Rule::NoFailureDestination => {
                "async or queue trigger without DLQ / OnFailure / RedrivePolicy"
            }
            Rule::NoConcurrencyCap => "batch or async function without reserved concurrency",
            Rule::TimeoutVsVisibility => "timeout above the source queue's visibility timeout / 6",
            Rule::MemoryVsObserved => "memory far above observed peak, or within 10 % of it",
            Rule::P99NearTimeout => "observed p99 duration within 10 % of the timeout",
            Rule::SlowInit => "observed Init near the 10 s cap",
            Rule::UnboundedRetries => "retries bounded only by defaults or retention",
            Rule::ProvisionedWithoutAlias => "provisioned concurrency without AutoPublishAlias",
            Rule::PublicWithoutThrottle => "public route without a concurrency cap",
        }
    }
}
