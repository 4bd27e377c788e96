import Foundation

/// The process's standard error as a `TextOutputStream`, for `print(_:to:)`.
public struct StandardError: TextOutputStream {
    public init() {}

    public mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
