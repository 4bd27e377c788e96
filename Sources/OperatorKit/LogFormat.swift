import ArgumentParser

/// How log lines are written.
public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `2026-11-21T13:55:00.123Z info  message key=value`, for people.
    case human
    /// One JSON object a line, for log shippers.
    case json
}
