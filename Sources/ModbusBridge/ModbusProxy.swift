import Executors
import Foundation
import Logging
import Synchronization

/// A Modbus TCP front for one device that can take only one master: an RTU bus, or a TCP
/// device that accepts a single client. Every client's request is passed to the device
/// through one `ModbusClient` (with its per-unit timing), one at a time, and its answer
/// back; so an agent and another tool (mbpoll, a home-automation system) read the same
/// meters at once.
///
/// Read-only unless told otherwise: function 03, 04 (and 01, 02) are passed on; writes
/// (05, 06, 15, 16) only with `allowWrites`, else answered with exception 01; any other
/// function with exception 01. A device that does not answer in time gives exception 0x0B
/// (gateway target failed to respond), a device that cannot be reached 0x0A (gateway path
/// unavailable); the device's own exceptions pass through unchanged.
public final class ModbusProxy: FrameAnswering, @unchecked Sendable {
    private let client: ModbusClient
    private let allowWrites: Bool
    private let logger: Logger
    private let counters = Mutex(ServerStatistics())
    /// Runs the forwarding tasks the server's thread waits for.
    private let forwarding = DedicatedThreadTaskExecutor(name: "modbus proxy")

    public init(client: ModbusClient, allowWrites: Bool = false, logger: Logger = Logger(label: "modbus.proxy")) {
        self.client = client
        self.allowWrites = allowWrites
        self.logger = logger
    }

    deinit {
        forwarding.shutdown()
    }

    public var statistics: ServerStatistics { counters.withLock { $0 } }

    func count(_ update: (inout ServerStatistics) -> Void) {
        counters.withLock { update(&$0) }
    }

    /// The answer to a whole Modbus TCP request frame (MBAP header and PDU). Blocks the
    /// server's thread until the device answered: that is what serialises the clients.
    func answer(_ frame: [UInt8], unit: UInt8) -> (bytes: [UInt8], fault: Fault?)? {
        guard frame.count >= 8, unit != 0 else {
            count { $0.ignored += 1 }
            return nil
        }
        count { $0.requests += 1 }
        let function = frame[7]
        let pdu = Array(frame[8...])
        let answer = Self.blocking(on: forwarding) { [client, allowWrites] in
            await Self.forward(function: function, pdu: pdu, unit: unit, client: client, allowWrites: allowWrites)
        }
        if case .exception(let code) = answer {
            count { $0.refused += 1 }
            logger.debug(
                "request answered with an exception",
                metadata: ["modbus.unit": "\(unit)", "modbus.function": "\(function)", "exception": "\(code)"]
            )
        }
        let body: [UInt8]
        switch answer {
        case .data(let bytes): body = [function] + bytes
        case .exception(let code): body = [function | 0x80, code.rawValue]
        }
        // MBAP: the request's transaction and protocol ids, the length of unit + PDU, the unit.
        let length = UInt16(body.count + 1)
        return (Array(frame[0..<4]) + [UInt8(length >> 8), UInt8(length & 0xFF), unit] + body, nil)
    }

    enum Answer {
        case data([UInt8])
        case exception(ModbusException)
    }

    /// Passes one request PDU (after the function code) to the device.
    static func forward(
        function: UInt8,
        pdu: [UInt8],
        unit: UInt8,
        client: ModbusClient,
        allowWrites: Bool
    ) async -> Answer {
        func word(_ at: Int) -> UInt16? {
            pdu.count >= at + 2 ? UInt16(pdu[at]) << 8 | UInt16(pdu[at + 1]) : nil
        }
        do throws(ModbusError) {
            switch function {
            case 0x03, 0x04:
                guard pdu.count == 4, let address = word(0), let count = word(2), (1...125).contains(count),
                    Int(address) + Int(count) <= 0x10000
                else { return .exception(.illegalDataValue) }
                let registers = try await client.readRegisters(
                    function == 0x03 ? .holdingRegisters : .inputRegisters,
                    address: address,
                    count: Int(count),
                    unit: unit
                )
                return .data([UInt8(registers.count * 2)] + registers.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
            case 0x01, 0x02:
                guard pdu.count == 4, let address = word(0), let count = word(2), (1...2000).contains(count),
                    Int(address) + Int(count) <= 0x10000
                else { return .exception(.illegalDataValue) }
                let bits = try await client.readBits(
                    function == 0x01 ? .coils : .discreteInputs,
                    address: address,
                    count: Int(count),
                    unit: unit
                )
                var packed = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
                for (index, bit) in bits.enumerated() where bit { packed[index / 8] |= 1 << UInt8(index % 8) }
                return .data([UInt8(packed.count)] + packed)
            case 0x05, 0x06, 0x0F, 0x10:
                guard allowWrites else { return .exception(.illegalFunction) }
                return try await write(function: function, pdu: pdu, unit: unit, client: client)
            default:
                return .exception(.illegalFunction)
            }
        } catch {
            switch error.kind {
            case .exception(let exception): return .exception(exception)
            case .timeout, .badCRC, .badFrame: return .exception(.gatewayTargetFailedToRespond)
            default: return .exception(.gatewayPathUnavailable)
            }
        }
    }

    private static func write(
        function: UInt8,
        pdu: [UInt8],
        unit: UInt8,
        client: ModbusClient
    ) async throws(ModbusError) -> Answer {
        guard pdu.count >= 4 else { return .exception(.illegalDataValue) }
        let address = UInt16(pdu[0]) << 8 | UInt16(pdu[1])
        let value = UInt16(pdu[2]) << 8 | UInt16(pdu[3])
        switch function {
        case 0x06:
            guard pdu.count == 4 else { return .exception(.illegalDataValue) }
            try await client.writeRegister(address: address, value: value, unit: unit)
            return .data(Array(pdu))
        case 0x05:
            guard pdu.count == 4, value == 0xFF00 || value == 0 else { return .exception(.illegalDataValue) }
            try await client.writeCoil(address: address, value: value == 0xFF00, unit: unit)
            return .data(Array(pdu))
        case 0x10:
            let count = Int(value)
            guard (1...123).contains(count), pdu.count == 5 + 2 * count, Int(pdu[4]) == 2 * count,
                Int(address) + count <= 0x10000
            else { return .exception(.illegalDataValue) }
            let values = (0..<count).map { UInt16(pdu[5 + 2 * $0]) << 8 | UInt16(pdu[6 + 2 * $0]) }
            try await client.writeRegisters(address: address, values: values, unit: unit)
            return .data(Array(pdu[0..<4]))
        default:
            // Writing many coils (0x0F) is not passed on: no meter takes it.
            return .exception(.illegalFunction)
        }
    }

    /// Runs `body` to completion, blocking the calling thread (never one of the cooperative
    /// pool's) until it has; `body` runs on `executor`, so it needs no pool thread either.
    private static func blocking<T: Sendable>(
        on executor: DedicatedThreadTaskExecutor,
        _ body: @escaping @Sendable () async -> T
    ) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}
