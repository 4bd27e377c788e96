/// The two framings a server speaks.
enum ServerFraming: Sendable {
    /// Unit id, PDU, CRC-16.
    case rtu
    /// MBAP header (transaction, protocol, length, unit), PDU.
    case tcp
}

/// Where a request frame ends, decided from its header as libmodbus does on the client side.
enum FrameBoundary: Equatable {
    /// The frame is `length` bytes long.
    case complete(length: Int)
    /// More bytes are needed to tell.
    case needMore
    /// A function code whose length this server cannot predict; the frame ends at silence.
    case unknown
}

enum RTURequestFraming {
    /// The length of the RTU request at the start of `bytes` (unit, function, data, CRC).
    static func boundary(_ bytes: ArraySlice<UInt8>) -> FrameBoundary {
        guard bytes.count >= 2 else { return .needMore }
        let function = bytes[bytes.startIndex + 1]
        let fixed: Int? =
            switch function {
            case 0x01, 0x02, 0x03, 0x04, 0x05, 0x06: 8
            case 0x07, 0x0B, 0x0C, 0x11: 4
            case 0x16: 10
            default: nil
            }
        if let fixed { return .complete(length: fixed) }
        switch function {
        case 0x0F, 0x10:
            // unit, function, address(2), quantity(2), byte count, data, CRC(2)
            guard bytes.count >= 7 else { return .needMore }
            return .complete(length: 9 + Int(bytes[bytes.startIndex + 6]))
        case 0x17:
            // unit, function, read addr(2), read qty(2), write addr(2), write qty(2), byte count, data, CRC(2)
            guard bytes.count >= 11 else { return .needMore }
            return .complete(length: 13 + Int(bytes[bytes.startIndex + 10]))
        default:
            return .unknown
        }
    }
}

enum TCPRequestFraming {
    /// MBAP: transaction(2) protocol(2) length(2) unit(1) PDU; `length` counts unit and PDU.
    static let headerLength = 6

    /// The length of the MBAP frame at the start of `bytes`, or nil when the header is
    /// invalid (a protocol id other than 0, or a length outside 2…254).
    static func boundary(_ bytes: ArraySlice<UInt8>) -> FrameBoundary? {
        guard bytes.count >= headerLength else { return .needMore }
        let start = bytes.startIndex
        let protocolID = UInt16(bytes[start + 2]) << 8 | UInt16(bytes[start + 3])
        let length = Int(bytes[start + 4]) << 8 | Int(bytes[start + 5])
        guard protocolID == 0, (2...254).contains(length) else { return nil }
        return .complete(length: headerLength + length)
    }
}
