import Foundation

/// The newest payload of each topic, for at most `capacity` topics: what the broker is to
/// hold once it is reachable. A newer payload replaces the one before, so a broker that is
/// down costs memory for one message per topic, never a queue.
struct LatestValues: Sendable {
    struct Message: Sendable, Equatable {
        var payload: [UInt8]
        var retain: Bool
    }

    let capacity: Int
    private(set) var messages: [String: Message] = [:]
    /// Topics in the order first stored, so a reconnect publishes them in a stable order.
    private(set) var topics: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    /// Keeps `message` as `topic`'s newest; false when the topic is new and the store is full.
    mutating func store(_ message: Message, topic: String) -> Bool {
        if messages[topic] == nil {
            guard topics.count < capacity else { return false }
            topics.append(topic)
        }
        messages[topic] = message
        return true
    }

    /// Every topic's newest message, oldest topic first.
    var all: [(topic: String, message: Message)] { topics.compactMap { t in messages[t].map { (t, $0) } } }
}
