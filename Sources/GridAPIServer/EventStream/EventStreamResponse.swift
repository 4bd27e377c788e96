import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// A live `text/event-stream` answer: what `produce` yields, with a heartbeat between, until
/// `produce` returns, the client goes away or the server shuts down gracefully (the stream is
/// then ended, so that the server's drain does not wait for it). The server's idle timeout
/// does not cut it: Hummingbird closes an idle connection only between responses.
package enum EventStreamResponse {
    /// Events waiting to be written to one client; beyond it the oldest are dropped rather than
    /// held for a client this far behind (the gateway's stream resumes from `Last-Event-ID`
    /// when such a client reconnects).
    package static let buffered = 256

    /// False when the request's `Accept` names media types, none of which is an event stream.
    package static func accepts(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept] else { return true }
        return accept.split(separator: ",").contains { part in
            let type = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            return ["text/event-stream", "text/*", "*/*"].contains(type)
        }
    }

    /// A `Last-Event-ID` header that is not an event id of these streams (a number).
    package struct MalformedLastEventID: Error {
        package let text: String
    }

    /// The `Last-Event-ID` a reconnecting client sends (the id of the last event it got);
    /// nil when absent.
    package static func lastEventID(_ request: Request) throws(MalformedLastEventID) -> UInt64? {
        guard let text = request.headers[HTTPField.Name("Last-Event-ID")!] else { return nil }
        guard let id = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
            throw MalformedLastEventID(text: String(text.prefix(40)))
        }
        return id
    }

    /// - Parameters:
    ///   - ticket: the stream's place among the server's open streams, held until it ends.
    ///   - first: the events to send before any other.
    ///   - heartbeat: how often a comment line goes out.
    ///   - produce: yields the stream's events; the stream ends when it returns. It runs in a
    ///     task of the response and is cancelled when the client goes away.
    package static func make(
        ticket: EventStreamSlots.Ticket,
        first: [ServerSentEvent],
        heartbeat: Duration,
        produce: @escaping @Sendable (AsyncStream<ServerSentEvent>.Continuation) async -> Void
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // Reverse proxies (nginx) would otherwise hold events back to fill their buffers.
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        let body = ResponseBody { writer in
            defer { withExtendedLifetime(ticket) {} }
            let (events, continuation) = AsyncStream.makeStream(
                of: ServerSentEvent.self,
                bufferingPolicy: .bufferingNewest(buffered)
            )
            for event in first { continuation.yield(event) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await produce(continuation)
                    continuation.finish()
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        continuation.yield(.heartbeat)
                    }
                }
                // A client gone makes `write` throw, which cancels both tasks.
                for await event in events.cancelOnGracefulShutdown() {
                    try await writer.write(ByteBuffer(string: event.text))
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
