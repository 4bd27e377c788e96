/// A value in a configuration file (an agent file, a fleet file) that cannot be used:
/// where it is (`file: buses[0].meters[2].unit`) and what is wrong with it.
public struct ConfigFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file, and the key path inside it when there is one.
    public let location: String
    /// What is wrong, and what would be right.
    public let problem: String

    public init(_ location: String, _ problem: String) {
        self.location = location
        self.problem = problem
    }

    public var description: String { "\(location): \(problem)" }
}
