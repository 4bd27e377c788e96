import Foundation

/// One of the project's executables as `swift build` left it: beside the test bundle, or in
/// the package's `.build/debug`. Nil when it is not built.
package func builtBinary(_ name: String) -> URL? {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // Tests/TestSupport/BuiltBinary.swift → the package's root.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return [beside.appendingPathComponent(name), root.appendingPathComponent(".build/debug/\(name)")]
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}
