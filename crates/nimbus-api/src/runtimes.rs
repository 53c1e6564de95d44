//! Runtime identifiers: the ones Nimbus runs, and every one Lambda knows.

/// What kind of interpreter a runtime needs; the platform picks binaries from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeFamily {
    /// CPython 3.`minor`.
    Python {
        /// Minor version, e.g. 12 for python3.12.
        minor: u8,
    },
    /// Node.js `major`.
    Node {
        /// Major version, e.g. 22 for nodejs22.x.
        major: u8,
    },
    /// Custom runtime: an executable `bootstrap` in the package or a layer.
    Provided,
}

/// A runtime Nimbus supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SupportedRuntime {
    /// `python3.9`
    Python39,
    /// `python3.10`
    Python310,
    /// `python3.11`
    Python311,
    /// `python3.12`
    Python312,
    /// `python3.13`
    Python313,
    /// `python3.14`
    Python314,
    /// `nodejs18.x`
    Nodejs18,
    /// `nodejs20.x`
    Nodejs20,
    /// `nodejs22.x`
    Nodejs22,
    /// `nodejs24.x`
    Nodejs24,
    /// `provided` (Amazon Linux 1 custom runtime; Nimbus treats all `provided*` alike)
    Provided,
    /// `provided.al2`
    ProvidedAl2,
    /// `provided.al2023`
    ProvidedAl2023,
}

impl SupportedRuntime {
    /// Every supported runtime, in the order error messages list them.
    pub const ALL: [SupportedRuntime; 13] = [
        SupportedRuntime::Python39,
        SupportedRuntime::Python310,
        SupportedRuntime::Python311,
        SupportedRuntime::Python312,
        SupportedRuntime::Python313,
        SupportedRuntime::Python314,
        SupportedRuntime::Nodejs18,
        SupportedRuntime::Nodejs20,
        SupportedRuntime::Nodejs22,
        SupportedRuntime::Nodejs24,
        SupportedRuntime::Provided,
        SupportedRuntime::ProvidedAl2,
        SupportedRuntime::ProvidedAl2023,
    ];

    /// The Lambda identifier, e.g. `python3.12`.
    pub fn as_str(self) -> &'static str {
        match self {
            SupportedRuntime::Python39 => "python3.9",
            SupportedRuntime::Python310 => "python3.10",
            SupportedRuntime::Python311 => "python3.11",
            SupportedRuntime::Python312 => "python3.12",
            SupportedRuntime::Python313 => "python3.13",
            SupportedRuntime::Python314 => "python3.14",
            SupportedRuntime::Nodejs18 => "nodejs18.x",
            SupportedRuntime::Nodejs20 => "nodejs20.x",
            SupportedRuntime::Nodejs22 => "nodejs22.x",
            SupportedRuntime::Nodejs24 => "nodejs24.x",
            SupportedRuntime::Provided => "provided",
            SupportedRuntime::ProvidedAl2 => "provided.al2",
            SupportedRuntime::ProvidedAl2023 => "provided.al2023",
        }
    }

    /// Parse an exact identifier (case-sensitive, as Lambda is).
    pub fn parse(s: &str) -> Option<SupportedRuntime> {
        SupportedRuntime::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Interpreter family and version.
    pub fn family(self) -> RuntimeFamily {
        match self {
            SupportedRuntime::Python39 => RuntimeFamily::Python { minor: 9 },
            SupportedRuntime::Python310 => RuntimeFamily::Python { minor: 10 },
            SupportedRuntime::Python311 => RuntimeFamily::Python { minor: 11 },
            SupportedRuntime::Python312 => RuntimeFamily::Python { minor: 12 },
            SupportedRuntime::Python313 => RuntimeFamily::Python { minor: 13 },
            SupportedRuntime::Python314 => RuntimeFamily::Python { minor: 14 },
            SupportedRuntime::Nodejs18 => RuntimeFamily::Node { major: 18 },
            SupportedRuntime::Nodejs20 => RuntimeFamily::Node { major: 20 },
            SupportedRuntime::Nodejs22 => RuntimeFamily::Node { major: 22 },
            SupportedRuntime::Nodejs24 => RuntimeFamily::Node { major: 24 },
            SupportedRuntime::Provided
            | SupportedRuntime::ProvidedAl2
            | SupportedRuntime::ProvidedAl2023 => RuntimeFamily::Provided,
        }
    }

    /// Value for `AWS_EXECUTION_ENV` (`AWS_Lambda_python3.12`); `None` for `provided*`,
    /// where Lambda does not set it.
    pub fn execution_env(self) -> Option<String> {
        match self.family() {
            RuntimeFamily::Provided => None,
            _ => Some(format!("AWS_Lambda_{}", self.as_str())),
        }
    }
}

/// Every identifier in the model's `Runtime` enum (botocore 1.44.8).
pub const LAMBDA_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "ruby4.0",
    "provided",
    "provided.al2",
    "provided.al2023",
    "nodejs26.x",
    "python3.15",
    "java8.al2023",
    "java11.al2023",
    "java17.al2023",
    "custom",
];

/// Identifiers Lambda itself no longer accepts for create/update (best effort,
/// as of 2026; Lambda answers these with its "no longer supported" text).
pub const LAMBDA_BLOCKED_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
];

/// Whether `s` is any runtime identifier Lambda's model knows.
pub fn is_lambda_runtime(s: &str) -> bool {
    LAMBDA_RUNTIMES.contains(&s)
}

/// Whether Lambda itself refuses `s` for new functions.
pub fn is_blocked_by_lambda(s: &str) -> bool {
    LAMBDA_BLOCKED_RUNTIMES.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trip_and_families() {
        for r in SupportedRuntime::ALL {
            assert_eq!(SupportedRuntime::parse(r.as_str()), Some(r));
            assert!(is_lambda_runtime(r.as_str()));
            assert!(!is_blocked_by_lambda(r.as_str()));
        }
        assert_eq!(
            SupportedRuntime::Python312.family(),
            RuntimeFamily::Python { minor: 12 }
        );
        assert_eq!(
            SupportedRuntime::Nodejs22.family(),
            RuntimeFamily::Node { major: 22 }
        );
        assert_eq!(
            SupportedRuntime::ProvidedAl2023.family(),
            RuntimeFamily::Provided
        );
        assert_eq!(SupportedRuntime::parse("Python3.12"), None);
        assert_eq!(SupportedRuntime::parse("java21"), None);
        assert_eq!(
            SupportedRuntime::Python39.execution_env().as_deref(),
            Some("AWS_Lambda_python3.9")
        );
        assert_eq!(SupportedRuntime::ProvidedAl2.execution_env(), None);
    }

    #[test]
    fn blocked_runtimes_are_lambda_runtimes() {
        for r in LAMBDA_BLOCKED_RUNTIMES {
            assert!(is_lambda_runtime(r), "{r}");
        }
    }
}
