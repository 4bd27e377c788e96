import Foundation
import Synchronization

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
package struct TempDir: Sendable {
    /// Its path.
    package let path: String

    /// Creates the directory; `prefix` names the suite in the path, for whoever finds one left over.
    package init(prefix: String = "gridledger-test") throws {
        path = makeTempDir(prefix: prefix)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    package func file(_ name: String) -> String { path + "/" + name }

    /// Removes the directory and everything in it.
    package func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// A path under the system temporary directory that does not exist yet (the code under
/// test creates it, as a directory or a file). Whatever is there when the test process exits
/// is removed then, so a test that keeps its directory to the end (to reopen it, or because
/// it failed half-way) still leaves nothing behind.
package func makeTempDir(prefix: String = "gridledger-test") -> String {
    _ = removeLeftoversAtExit
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    leftovers.withLock { $0.append(path) }
    return path
}

private let leftovers = Mutex<[String]>([])

private let removeLeftoversAtExit: Void = {
    atexit {
        for path in leftovers.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}()
