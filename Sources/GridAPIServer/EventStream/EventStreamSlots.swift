import Synchronization

/// The open event streams of one server, at most `limit`: a stream holds a `Ticket` for as
/// long as it is open, and gives its place back when the ticket goes (the stream ended, the
/// client went away, or the response was never written).
package final class EventStreamSlots: Sendable {
    /// A place among the open streams; released when the last reference goes.
    package final class Ticket: Sendable {
        private let slots: EventStreamSlots

        fileprivate init(_ slots: EventStreamSlots) { self.slots = slots }

        deinit { slots.release() }
    }

    /// The most streams open at once.
    package let limit: Int
    private let open = Mutex(0)
    private let onChange: @Sendable (Int) -> Void

    /// - Parameter onChange: told the number of open streams each time it changes (a gauge).
    package init(limit: Int, onChange: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.limit = max(0, limit)
        self.onChange = onChange
    }

    /// Streams open now.
    package var count: Int { open.withLock { $0 } }

    /// A place for one more stream; nil when `limit` are open.
    package func take() -> Ticket? {
        // `onChange` is told under the lock, so that it sees the counts in their order.
        let taken = open.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            onChange(count)
            return true
        }
        return taken ? Ticket(self) : nil
    }

    private func release() {
        open.withLock { count in
            count -= 1
            onChange(count)
        }
    }
}
