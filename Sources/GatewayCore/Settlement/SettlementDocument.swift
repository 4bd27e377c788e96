import Foundation
import GridAPI

/// A settlement export written piece by piece, so a long window never sits in memory:
/// `head`, then `row` for each row, then `tail`. CSV (RFC 4180, one row per meter and
/// period, a header line first) or JSON (a `SettlementView`, its rows in order).
package struct SettlementDocument: Sendable {
    package enum Format: String, CaseIterable, Sendable {
        case csv
        case json

        /// The HTTP content type.
        package var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .json: "application/json"
            }
        }
    }

    /// CSV columns, in order.
    package static let csvColumns = [
        "period_start", "period_end", "meter", "roles", "import_wh", "export_wh", "import_start_entry",
        "import_end_entry", "export_start_entry", "export_end_entry", "received_wh", "delivered_wh", "trades",
        "complete", "notes",
    ]

    package let format: Format
    private let encoder: JSONEncoder
    private var rows = 0

    package init(format: Format) {
        self.format = format
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.encoder = encoder
    }

    /// What comes before the rows.
    package func head(window: SettlementWindow, cut: SettlementCutView) throws -> String {
        switch format {
        case .csv:
            return Self.csvColumns.joined(separator: ",") + "\r\n"
        case .json:
            let fields: [(String, String)] = [
                ("from", String(window.from)),
                ("fromTime", try json(isoTime(window.from))),
                ("periodSeconds", String(window.periodMs / 1000)),
                ("sealed", try json(cut)),
                ("until", String(window.until)),
                ("untilTime", try json(isoTime(window.until))),
            ]
            return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + ",\"rows\":[\n"
        }
    }

    /// One row.
    package mutating func row(_ row: SettlementRowView) throws -> String {
        defer { rows += 1 }
        switch format {
        case .csv:
            return Self.csvLine(row)
        case .json:
            return (rows == 0 ? "" : ",\n") + (try json(row))
        }
    }

    /// What comes after the rows.
    package func tail() -> String {
        switch format {
        case .csv: return ""
        case .json: return "\n]}\n"
        }
    }

    private func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func csvLine(_ row: SettlementRowView) -> String {
        func number<T: BinaryInteger>(_ value: T?) -> String { value.map { String($0) } ?? "" }
        let trades = row.trades.map { "\($0.entry):\($0.direction):\($0.counterparty):\($0.energyWh)" }
        let fields = [
            row.periodStartTime, row.periodEndTime, row.meter, row.roles.joined(separator: "+"),
            number(row.importWh), number(row.exportWh),
            number(row.importReadings?.startEntry), number(row.importReadings?.endEntry),
            number(row.exportReadings?.startEntry), number(row.exportReadings?.endEntry),
            String(row.receivedWh), String(row.deliveredWh), trades.joined(separator: ";"),
            row.complete ? "true" : "false", row.notes.joined(separator: "; "),
        ]
        return fields.map(csvField).joined(separator: ",") + "\r\n"
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
