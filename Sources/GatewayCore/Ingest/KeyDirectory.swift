import LedgerLite
import Synchronization

/// Enrolled meter keys, readable from any thread: request handlers check signatures on
/// both cores before the batch goes to the single chain writer. The writer updates it on
/// every enrollment.
package final class KeyDirectory: Sendable {
    private let keys = Mutex<[MeterID: PublicIdentity]>([:])

    package func key(of meter: MeterID) -> PublicIdentity? { keys.withLock { $0[meter] } }
    package func set(_ key: PublicIdentity) { keys.withLock { $0[key.id] = key } }
}
