import Foundation

/// One message of a `text/event-stream` (the WHATWG HTML standard's server-sent events): an
/// event with a name, an optional id and JSON data, or a comment line that only keeps the
/// connection alive.
package struct ServerSentEvent: Sendable, Equatable {
    /// The bytes on the wire, a blank line included.
    package let text: String

    /// `event: <name>`, `id: <id>` and `data: <json>`; JSON is one line, so one `data:` field.
    package init(event: String, id: String? = nil, data: String) {
        var text = "event: \(event)\n"
        if let id { text += "id: \(id)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        self.text = text + "\n"
    }

    /// The event with `value` encoded as JSON by `encoder`.
    package init<T: Encodable>(event: String, id: String? = nil, json value: T, encoder: JSONEncoder) throws {
        self.init(event: event, id: id, data: String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    private init(text: String) { self.text = text }

    /// A comment: ignored by clients, but bytes on the connection.
    package static let heartbeat = ServerSentEvent(text: ": heartbeat\n\n")

    /// Tells a client how long to wait before it reconnects (milliseconds).
    package static func retry(milliseconds: Int) -> ServerSentEvent {
        ServerSentEvent(text: "retry: \(milliseconds)\n\n")
    }
}
