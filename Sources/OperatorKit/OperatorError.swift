/// A failure reported to the operator as one line that names the thing and the fix.
/// ArgumentParser prints it as `Error: …` and exits non-zero; no stack trace.
public struct OperatorError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
