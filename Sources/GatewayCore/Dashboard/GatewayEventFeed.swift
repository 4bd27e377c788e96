import GridAPI
import GridAPIServer
import Logging

/// What one `GET /v1/events` stream of the gateway sends after its hello: each block as the
/// archiver stores it (`StoredHeights`, the same signal the uplink follows: nothing polls the
/// store), read by `BlockEvents`, and the uplink's view each time it changes.
struct GatewayEventFeed: Sendable {
    let heights: StoredHeights
    let blocks: BlockEvents
    let uplink: Uplink?
    /// Whether the block events carry household data (`HouseholdReadAccess`).
    let household: Bool
    let logger: Logger

    /// The most blocks sent to catch a reconnecting client up (`Last-Event-ID`); one further
    /// behind gets the newest ones and reads older blocks through `GET /v1/blocks`.
    static let maxCatchUp: UInt64 = 32

    /// Yields into `events` until the archiver stops or the task is cancelled.
    /// - Parameter lastSent: the height of the last block the client has (its `Last-Event-ID`);
    ///   nil for a new client, which gets the newest block first.
    func produce(after lastSent: UInt64?, into events: AsyncStream<ServerSentEvent>.Continuation) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followBlocks(after: lastSent, into: events) }
            if let uplink {
                group.addTask {
                    for await _ in uplink.changes.updates() {
                        guard let event = self.encode("uplink", id: nil, uplink.view()) else { continue }
                        events.yield(event)
                    }
                }
            }
            // The stream ends with the blocks: when the archiver stops, or on cancellation.
            await group.next()
            group.cancelAll()
        }
    }

    private func followBlocks(after lastSent: UInt64?, into events: AsyncStream<ServerSentEvent>.Continuation) async {
        var sent = lastSent
        for await height in heights.updates() {
            var from = height
            if let sent {
                guard height > sent else { continue }
                from = max(sent + 1, height >= Self.maxCatchUp ? height - Self.maxCatchUp + 1 : 0)
            }
            for h in from...height {
                do {
                    guard let block = try await blocks.event(at: h, household: household),
                        let event = encode("block", id: "\(h)", block)
                    else { continue }
                    events.yield(event)
                } catch {
                    logger.warning(
                        "the event stream skips a block it cannot read",
                        metadata: ["block.height": "\(h)", "error": "\(error)"]
                    )
                }
            }
            sent = height
        }
    }

    private func encode(_ name: String, id: String?, _ value: some Encodable) -> ServerSentEvent? {
        do { return try ServerSentEvent(event: name, id: id, json: value, encoder: Gateway.encoder) } catch {
            logger.error(
                "cannot encode an event of the event stream",
                metadata: ["event": "\(name)", "error": "\(error)"]
            )
            return nil
        }
    }
}
