import ArgumentParser
import GatewayCore

/// `--accept-v1-readings-until DATE`: a date (`2027-03-01`, midnight UTC) or an ISO 8601 time
/// with a zone (`2027-03-01T12:00:00Z`).
struct CutoffArgument: ExpressibleByArgument, Sendable {
    var milliseconds: Int64
    var text: String

    init(milliseconds: Int64, text: String) {
        self.milliseconds = milliseconds
        self.text = text
    }

    init?(argument: String) {
        guard let ms = ReadingVersionPolicy.parseCutoff(argument) else { return nil }
        self.init(milliseconds: ms, text: argument)
    }

    var defaultValueDescription: String { text }
}
