/// The last offer or request a meter had recorded: a resent copy is answered again
/// instead of being refused as stale.
package struct LastTrade: Sendable {
    package var sequence: UInt64
    package var bytes: [UInt8]
}
