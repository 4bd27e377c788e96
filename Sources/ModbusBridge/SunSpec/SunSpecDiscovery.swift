/// Finds a SunSpec device's map: the `SunS` marker at 40000, 0 or 50000, then the chain of
/// models (`ID`, `L`, next at the address after the model) up to the end marker.
///
/// A device's answers are hostile: every read is a few registers, a model whose length runs
/// past register 65535 ends the walk with an error, and so does a chain of more than
/// `maxModels` models (addresses only grow, so a chain cannot loop without running past the
/// end or exceeding the count).
public struct SunSpecDiscovery: Sendable {
    /// Reads `count` holding registers at `address` of the device.
    public typealias ReadRegisters = @Sendable (_ address: UInt16, _ count: Int) async throws(ModbusError) -> [UInt16]

    /// More models than any real device has.
    public static let maxModels = 64

    public var bases: [UInt16]
    public var maxModels: Int
    private let read: ReadRegisters

    public init(bases: [UInt16] = SunSpecMarker.bases, maxModels: Int = Self.maxModels, read: @escaping ReadRegisters) {
        self.bases = bases
        self.maxModels = maxModels
        self.read = read
    }

    /// Discovery through `client`, on unit `unit` (function 03).
    public init(client: ModbusClient, unit: UInt8) {
        self.init { address, count async throws(ModbusError) -> [UInt16] in
            try await client.readRegisters(.holdingRegisters, address: address, count: count, unit: unit)
        }
    }

    /// The device's base, models and common block.
    public func discover() async throws(SunSpecError) -> SunSpecDevice {
        var answers: [UInt16: String] = [:]
        var timeout: ModbusError?
        for base in bases where Int(base) + 2 <= 0x10000 {
            let marker: [UInt16]
            do {
                marker = try await read(base, 2)
            } catch {
                switch error.kind {
                case .exception(let exception): answers[base] = "\(exception)"
                case .timeout:
                    // Some devices stay silent for registers they do not have: try the next base.
                    answers[base] = "no answer"
                    timeout = error
                default: throw .bus(error)
                }
                continue
            }
            if marker == SunSpecMarker.registers { return try await walk(from: base) }
            answers[base] = "answered " + marker.map { hex($0) }.joined(separator: " ")
        }
        // Silent at every base: nothing answers at this unit, SunSpec or not.
        if let timeout, answers.values.allSatisfy({ $0 == "no answer" }) { throw .bus(timeout) }
        throw .noMarker(answers)
    }

    private func walk(from base: UInt16) async throws(SunSpecError) -> SunSpecDevice {
        var models: [SunSpecModelHeader] = []
        var address = Int(base) + 2
        while true {
            guard models.count <= maxModels else { throw .tooManyModels(maxModels) }
            guard address + 2 <= 0x10000 else {
                let last = models.last
                throw .modelRunsPast(id: last?.id ?? 0, address: last?.address ?? base, length: last?.length ?? 0)
            }
            let header: [UInt16]
            do {
                header = try await read(UInt16(address), 2)
            } catch {
                // Some devices end the map without an end marker: past the last model, reads fail.
                if case .exception = error.kind, !models.isEmpty { return try await finish(base, models, end: false) }
                throw .readFailed(address: UInt16(address), error: error)
            }
            guard header.count == 2 else { throw .readFailed(address: UInt16(address), error: Self.short) }
            if header[0] == SunSpecMarker.endModelID { return try await finish(base, models, end: true) }
            let length = Int(header[1])
            guard address + 2 + length <= 0x10000 else {
                throw .modelRunsPast(id: header[0], address: UInt16(address), length: length)
            }
            models.append(SunSpecModelHeader(id: header[0], address: UInt16(address), length: length))
            address += 2 + length
        }
    }

    private func finish(
        _ base: UInt16,
        _ models: [SunSpecModelHeader],
        end: Bool
    ) async throws(SunSpecError)
        -> SunSpecDevice
    {
        var common: SunSpecCommon?
        if let header = models.first(where: { $0.id == 1 }), header.length >= 64 {
            // Mn, Md, Opt, Vr, SN: 64 registers after ID and L.
            do throws(ModbusError) {
                let words = try await read(header.address + 2, 64)
                guard words.count == 64 else { throw Self.short }
                common = SunSpecCommon(
                    manufacturer: Self.string(words[0..<16]),
                    model: Self.string(words[16..<32]),
                    version: Self.string(words[40..<48]),
                    serialNumber: Self.string(words[48..<64])
                )
            } catch {
                throw .readFailed(address: header.address + 2, error: error)
            }
        }
        return SunSpecDevice(base: base, models: models, common: common, endMarker: end)
    }

    private static let short = ModbusError(
        kind: .badFrame,
        message: "the answer holds fewer registers than asked for",
        operation: "read the SunSpec map"
    )

    /// A SunSpec string: two characters a register, high byte first, padded with NULs.
    static func string(_ words: ArraySlice<UInt16>) -> String {
        var bytes: [UInt8] = []
        for word in words {
            bytes.append(UInt8(word >> 8))
            bytes.append(UInt8(word & 0xFF))
        }
        let printable = bytes.prefix { $0 != 0 }.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }
        return String(decoding: printable, as: UTF8.self).trimmed(" ")
    }

    /// Registers holding `text` as a SunSpec string of `count` registers (cut to fit, NUL padded).
    public static func registers(string text: String, count: Int) -> [UInt16] {
        var bytes = Array(text.utf8.prefix(count * 2))
        bytes += [UInt8](repeating: 0, count: count * 2 - bytes.count)
        return (0..<count).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }
}

extension String {
    fileprivate func trimmed(_ set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text.removeFirst() }
        while text.last == set { text.removeLast() }
        return String(text)
    }
}
