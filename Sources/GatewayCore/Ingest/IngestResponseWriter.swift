import GridAPI
import LedgerLite
import NIOCore

/// Writes the body of a `POST /v1/readings` answer straight into a buffer.
///
/// Every batch gets one result per record, so this runs for every reading the gateway
/// acknowledges; Foundation's `JSONEncoder` cost a few percent of all ingest CPU here.
/// The output is the same JSON object `JSONEncoder` (sorted keys) makes of
/// `IngestResponse`, which a test checks.
package enum IngestResponseWriter {
    package static func body(_ results: [IngestResult]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(32 + results.count * 80)
        buffer.writeStaticString("{\"results\":[")
        for (n, r) in results.enumerated() {
            if n > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("{")
            if let detail = r.detail {
                buffer.writeStaticString("\"detail\":")
                writeString(detail, to: &buffer)
                buffer.writeStaticString(",")
            }
            buffer.writeStaticString("\"index\":")
            buffer.writeString(String(r.index))
            if let meter = r.meter {
                buffer.writeStaticString(",\"meter\":")
                writeString(meter, to: &buffer)
            }
            if let reason = r.reason {
                buffer.writeStaticString(",\"reason\":")
                writeString(reason.rawValue, to: &buffer)
            }
            if let sequence = r.sequence {
                buffer.writeStaticString(",\"sequence\":")
                buffer.writeString(String(sequence))
            }
            buffer.writeStaticString(",\"status\":")
            writeString(r.status.rawValue, to: &buffer)
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("]}")
        return buffer
    }

    /// A JSON string literal (RFC 8259 escapes).
    package static func writeString(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0x0F)])
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
