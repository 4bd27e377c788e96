import LedgerLite

/// What a push got: a checkpoint per accepted block, in order, and the refusal that stopped
/// it (blocks after a refused one are not looked at).
package struct PushOutcome: Sendable {
    package var accepted: [Accepted] = []
    package var rejection: Rejection?
    /// The pushing gateway, once its certificate and signature passed; nil for a push refused
    /// before.
    package var gateway: GatewayID?
    /// The value flags the accepted blocks raised, in block order.
    package var flags: [ValueFlag] { accepted.flatMap(\.flags) }
}
